// Compiled by `tsc -p bindings/node/tsconfig.json` (./run test), never run:
// each line uses index.d.ts as a TypeScript user would, so a declaration
// that drifts from its documented use fails the type check. The
// `@ts-expect-error` lines must stay errors.
import tl = require('../..');

export function schedules(): number {
  const cy = tl.Schedule.cyclic({ baseLr: 1e-3, maxLr: 6e-3, stepSizeUp: 4, mode: 'expRange', gamma: 0.99 });
  const re = tl.Schedule.cosineRestarts({ t0: 10, tMult: 2n });
  const ms = tl.Schedule.multiStep({ milestones: [2, 5n], gamma: 0.5 });
  const seq = tl.Schedule.sequential([cy, re, ms], [10, 20]);
  // @ts-expect-error: mode is a closed set
  tl.Schedule.cyclic({ mode: 'exp_range' });
  const k: tl.ScheduleKind = seq.kind;
  return seq.lr(3) + (k === 'sequential' ? 1 : 0);
}

export function plans(opt: tl.Optimizer): boolean {
  const s = tl.Schedule.stlr({ totalSteps: 10 });
  const plan = new tl.Plan(2).addStage({ steps: 10, schedule: s, freeze: 'onlyGroup', freezeArg: 1, baseLrs: [1e-3, 1e-2] });
  const preset: tl.Plan = tl.experimental.planPreset('ulmfit', { numGroups: 2, stageSteps: 5, finalSteps: 10 });
  // @ts-expect-error: an unknown preset
  tl.experimental.planPreset('gradual', { numGroups: 2 });
  const lrs: Float64Array = plan.lrs(3);
  const { stage, local } = preset.stageAt(7);
  return plan.apply(opt, 0) && lrs.length === stage && local === 0;
}

export function checkpoints(m: tl.Model): string[] {
  const ck = tl.Checkpoint.fromBuffer(new Uint8Array(0), { verifyDataCrc: false, maxSize: 1 << 20 });
  ck.addTensor('w', new Float32Array(6), [2, 3]);
  ck.addTensor('ids', new BigInt64Array(2));
  const info: tl.TensorInfo = ck.tensorInfo('w');
  const data: tl.TensorData = ck.tensorData(0);
  ck.vocab = ['a', 'b'];
  const isNew: Uint8Array = ck.remapVocab(['b', 'c'], ['w']);
  ck.restoreModel(m, {
    strict: false, prefix: '0.', map: { 'fc.weight': 'head.weight' },
    report: (issue: tl.LoadIssue, name: string) => { if (issue === 'missing') throw new Error(name); },
  });
  m.load('x.tlc', { map: [['a', 'b']] });
  // @ts-expect-error: report receives (issue, name)
  ck.restoreModel(m, { report: (n: number) => n });
  const sec = ck.getSection('rng');
  return [info.dtype, String(data.length), String(isNew[0]), String(sec?.subkind), ...(ck.vocab ?? [])];
}

export function metrics(): number {
  const M = tl.metrics;
  const sk = M.sinkhorn([0, 1, 1, 0], 2, 2, 0.1, { plan: true });
  const pca = M.pcaFit([1, 2, 3, 4, 5, 7], 2, 1);
  const z: Float64Array = M.pcaTransform([1, 2], 2, pca.mean, pca.components);
  const sel = M.pcaSelect([1, 2, 3, 4], [1, 1, 2, 2], 2, 1, { criterion: 'meanDistance', fit: 'both' });
  const cs = M.cslsRetrieve([1, 0, 0, 1], [1, 0, 0, 1], 2, { knn: 1, top: 1 });
  const f = M.selectionFeatures([0, 1, 1], [0, 1, 3], 2, [0.5, 0.5], { renyiAlpha: 0.5 });
  const idx: number[] = M.selectTop(f, 12, new Float64Array(12), 1).indices;
  // @ts-expect-error: the criterion is a closed set
  M.pcaSelect([1], [1], 1, 1, { criterion: 'median' });
  return sk.cost + z[0] + sel.indices[0] + cs.scores[0] + idx[0] +
    M.precisionAtK(cs.indices, 1, 1, [0], [0]) + M.slicedWasserstein([0], [1], 1, { seed: 3n }) +
    M.proxyADistance([0], [1], 1).distance + M.procrustes([1], [1], 1)[0];
}
