// TypeScript declarations of the libtl Node.js binding (index.js).
// Arrays: Float32Array for model data, Float64Array for metrics and rates,
// BigInt64Array for token ids and targets; a plain number[] is accepted (and
// copied) wherever a typed array is, other typed arrays are refused.

export type Floats32 = Float32Array | number[];
export type Floats64 = Float64Array | number[];
export type Ints64 = BigInt64Array | Array<number | bigint>;
export type Size = number | bigint;

/** libtl's version string ("0.1.0") and number. */
export declare const version: string;
export declare const versionNumber: number;
/** The path of the loaded libtl ($TL_LIBRARY when set). */
export declare const libraryPath: string;

export declare const Status: Readonly<{
  OK: 0; INVALID_ARG: -1; NOMEM: -2; SHAPE: -3; STATE: -4; IO: -5; FORMAT: -6;
  NUMERIC: -7; NOT_FOUND: -8; UNSUPPORTED: -9; INTERNAL: -10;
}>;

/** A libtl call failed: .status (a Status value), .statusName ("TL_E_SHAPE"),
 * .function (the C function, or the binding's method for argument checks)
 * and libtl's message (tl_last_error). */
export declare class Error extends globalThis.Error {
  status: number;
  statusName: string;
  function: string | undefined;
}
export declare class InvalidArgumentError extends Error {}
export declare class OutOfMemoryError extends Error {}
export declare class ShapeError extends Error {}
export declare class StateError extends Error {}
/** Use of a closed Model, Optimizer, Schedule or Checkpoint. */
export declare class ClosedError extends StateError {}
export declare class IOFailure extends Error {}
export declare class FormatError extends Error {}
export declare class NumericError extends Error {}
export declare class NotFoundError extends Error {}
export declare class UnsupportedError extends Error {}
export declare class InternalError extends Error {}

/** Owns one libtl handle: close() frees it (idempotent); a
 * FinalizationRegistry frees it if the object is collected unclosed. */
declare class Handle {
  readonly closed: boolean;
  close(): void;
}

export type Activation = 'none' | 'relu' | 'tanh' | 'sigmoid';
export type ModelMode = 'fine-tune' | 'feature-extract';

export interface ForwardResult {
  /** A copy of the model's output. */
  output: Float32Array;
  dims: number[];
}

export declare class Model extends Handle {
  constructor(options?: { seed?: Size });
  addEmbedding(name: string, numEmbeddings: Size, dim: Size,
               options?: { paddingIdx?: number | bigint; embedP?: number }): this;
  addLstm(name: string, inputSize: Size, hiddenSize: Size, numLayers?: Size,
          options?: { weightP?: number; inputP?: number; hiddenP?: number; outputP?: number;
                      arAlpha?: number; tarBeta?: number; stateful?: boolean }): this;
  addGru(name: string, inputSize: Size, hiddenSize: Size, numLayers?: Size,
         options?: { weightP?: number; hiddenP?: number; stateful?: boolean }): this;
  addLinear(name: string, inFeatures: Size, outFeatures: Size, activation?: Activation): this;
  addDropout(name: string, p: number, kind?: 'standard' | 'locked'): this;
  addConcatPool(name: string): this;
  addDecoder(name: string, inFeatures: Size, outFeatures: Size,
             tie?: { tieModel?: Model | null; tieLayer?: string | null }): this;

  readonly numLayers: number;
  layerNames(): string[];
  setGroup(layer: string, group: Size): void;
  getGroup(layer: string): number;
  readonly numGroups: number;
  freezeTo(n: number | bigint): void;
  freeze(): void;
  unfreeze(): void;
  setGroupTrainable(group: Size, trainable: boolean): void;
  groupTrainable(group: Size): boolean;

  paramNames(): string[];
  paramShape(name: string): number[];
  /** Zero-copy views of the flat parameter / gradient buffers. While a view
   * is reachable the model's memory stays allocated (even after close())
   * and adding layers throws StateError. */
  params(): Float32Array;
  grads(): Float32Array;
  param(name: string): Float32Array;
  grad(name: string): Float32Array;
  getParam(name: string): Float32Array;
  setParam(name: string, values: Floats32): void;
  setParamTrainable(name: string, trainable: boolean): void;
  paramTrainable(name: string): boolean;
  setParamMask(name: string, mask: Uint8Array | number[] | null): void;

  train(): void;
  eval(): void;
  readonly training: boolean;
  mode: ModelMode;
  setLengths(lengths: number[] | null): void;
  forward(x: Floats32, dims: number[]): ForwardResult;
  forwardIds(ids: Ints64, dims: number[]): ForwardResult;
  backward(dy: Floats32, dims: number[]): undefined;
  /** With {inputGrad: true}: the gradient w.r.t. the last forward's float input (a copy). */
  backward(dy: Floats32, dims: number[], options: { inputGrad: true }): Float32Array;
  backward(dy: Floats32, dims: number[], options?: { inputGrad?: boolean }): Float32Array | undefined;
  resetState(): void;
  auxLoss(): number;
  zeroGrad(): void;
  save(path: string): void;
  load(path: string, options?: LoadOptions): void;
}

export type Hparam = 'lr' | 'momentum' | 'beta2' | 'eps' | 'weightDecay';

export interface OptimizerOptions {
  kind?: 'sgd' | 'adam' | 'adamw';
  lr?: number;
  momentum?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export declare class Optimizer extends Handle {
  constructor(models: Model | Model[], options?: OptimizerOptions);
  readonly numGroups: number;
  hparam(group: Size, which: Hparam): number;
  setHparam(group: Size, which: Hparam, value: number): void;
  lr(group: Size): number;
  setLr(group: Size, lr: number): void;
  setLrs(lrs: Floats64): void;
  freezeTo(n: number | bigint): void;
  setGroupTrainable(group: Size, trainable: boolean): void;
  zeroGrad(): void;
  clipGradNorm(maxNorm: number): number;
  step(): void;
  readonly stepCount: number;
  resetState(): void;
  stateSave(): Uint8Array;
  stateLoad(bytes: Uint8Array | number[]): void;
}

export type ScheduleKind = 'stlr' | 'cyclic' | 'cosine' | 'cosineRestarts' | 'oneCycle' | 'fastaiOneCycle' |
  'linear' | 'constant' | 'step' | 'exponential' | 'multiStep' | 'sequential';

export declare class Schedule extends Handle {
  private constructor();
  static stlr(options: { lrMax?: number; totalSteps: Size; cutFrac?: number; ratio?: number }): Schedule;
  static cosine(options: { baseLr?: number; tMax: Size; etaMin?: number }): Schedule;
  static oneCycle(options: { maxLr?: number; totalSteps: Size; pctStart?: number; divFactor?: number;
                             finalDivFactor?: number; threePhase?: boolean; anneal?: 'cos' | 'linear';
                             cycleMomentum?: boolean; baseMomentum?: number; maxMomentum?: number }): Schedule;
  static fastaiOneCycle(options: { lrMax?: number; totalSteps: Size; pctStart?: number; div?: number;
                                   divFinal?: number; moms?: Floats64 }): Schedule;
  static linear(options?: { baseLr?: number; startFactor?: number; endFactor?: number; totalIters?: Size }): Schedule;
  static step(options: { baseLr?: number; stepSize: Size; gamma?: number }): Schedule;
  static exponential(options?: { baseLr?: number; gamma?: number }): Schedule;
  static constant(options?: { lr?: number; factor?: number; totalIters?: Size }): Schedule;
  /** CyclicLR (momentum cycles inversely when cycleMomentum is set). */
  static cyclic(options?: { baseLr?: number; maxLr?: number; stepSizeUp?: Size; stepSizeDown?: Size;
                            mode?: 'triangular' | 'triangular2' | 'expRange'; gamma?: number;
                            cycleMomentum?: boolean; baseMomentum?: number; maxMomentum?: number }): Schedule;
  /** SGDR / CosineAnnealingWarmRestarts; t0 and tMult are C's t_0 and t_mult. */
  static cosineRestarts(options: { baseLr?: number; t0: Size; tMult?: Size; etaMin?: number }): Schedule;
  /** MultiStepLR; the milestones are copied. */
  static multiStep(options: { baseLr?: number; milestones: Size[] | BigUint64Array; gamma?: number }): Schedule;
  /** SequentialLR over deep copies of `schedules` (the caller still closes
   * them); milestones has one element fewer than schedules. */
  static sequential(schedules: Schedule[], milestones?: Size[] | BigUint64Array): Schedule;
  lr(step: Size): number;
  momentum(step: Size): number;
  readonly hasMomentum: boolean;
  readonly kind: ScheduleKind;
  readonly totalSteps: number | bigint;
  multiplier(step: Size): number;
  groupLrs(baseLrs: Floats64, step: Size): Float64Array;
}

/** One stage of a Plan (tl_plan_stage). The schedule and rates are copied. */
export interface PlanStage {
  steps: Size;
  schedule: Schedule;
  /** 'to': fastai freeze_to(freezeArg) (default); 'onlyGroup': only group freezeArg trains. */
  freeze?: 'to' | 'onlyGroup';
  freezeArg?: number | bigint;
  /** One rate per group, times the schedule's multiplier; default: the schedule's rate for every group. */
  baseLrs?: Floats64;
  /** Clear the optimizer state at the stage's first step (default true). */
  resetState?: boolean;
}

/** A stage-by-stage fine-tuning plan over numGroups layer groups (tl_plan_*). */
export declare class Plan extends Handle {
  constructor(numGroups: Size);
  addStage(stage: PlanStage): this;
  readonly numStages: number;
  readonly numGroups: number;
  readonly totalSteps: number | bigint;
  stageBounds(stage: Size): { start: number | bigint; steps: number | bigint };
  stageAt(step: Size): { stage: number; local: number | bigint };
  groupTrainable(stage: Size, group: Size): boolean;
  lrs(step: Size): Float64Array;
  momentum(step: Size): number;
  /** tl_plan_apply; true on a stage's first step. */
  apply(optimizer: Optimizer, step: Size): boolean;
}

export type PlanPreset = 'ulmfit' | 'chainThaw' | 'fineTune' | 'featureExtraction';

/** libtl's experimental API (TL_EXPERIMENTAL_API in C): may change in a minor version. */
export declare namespace experimental {
  /** tl_plan_preset_create with tl_plan_preset_options in camelCase (numGroups for n_groups). */
  function planPreset(preset: PlanPreset, options: {
    numGroups: Size; lr?: number; stageSteps?: Size; finalSteps?: Size; factor?: number; cutFrac?: number;
    ratio?: number; lrMult?: number; pctStart?: number; div?: number;
    /** ULMFiT: one peak rate per stage (numGroups of them); default lr for every stage. */
    stageLrs?: ArrayLike<number> }): Plan;
}

export type LoadIssue = 'missing' | 'unexpected';

/** tl_model_load_options (Checkpoint.restoreModel, Model.load). */
export interface LoadOptions {
  /** true (default): every parameter filled and every considered tensor used, else NotFoundError, model unchanged. */
  strict?: boolean;
  /** Only tensors whose names start with prefix, matched without it (also names the RNG stream). */
  prefix?: string | null;
  /** tensor name (after the prefix) -> parameter name. */
  map?: Record<string, string> | Map<string, string> | Array<[string, string]>;
  restoreRng?: boolean;
  /** Called during the load for each missing parameter and unused tensor (full name). An
   * exception is caught before it reaches C and thrown after the load returns; the load itself
   * is not undone. */
  report?: ((issue: LoadIssue, name: string) => void) | null;
}

/** tl_ckpt_load_options. */
export interface CheckpointLoadOptions {
  verifyDataCrc?: boolean;
  /** Refuse larger inputs (0: no limit). */
  maxSize?: Size;
}

export type TensorDtype = 'f32' | 'f64' | 'i64' | 'u8' | 'i32';
export type TensorData = Float32Array | Float64Array | BigInt64Array | Uint8Array | Int32Array;

export interface TensorInfo {
  name: string;
  dtype: TensorDtype;
  shape: number[];
  numel: number;
  nbytes: number;
  /** Layer group, or null for none. */
  group: number | null;
}

export declare class Checkpoint extends Handle {
  constructor();
  static load(path: string, options?: CheckpointLoadOptions): Checkpoint;
  static fromBuffer(bytes: Uint8Array | number[], options?: CheckpointLoadOptions): Checkpoint;
  save(path: string): void;
  toBuffer(): Uint8Array;
  storeModel(model: Model, prefix?: string | null): void;
  restoreModel(model: Model, options?: LoadOptions): void;
  storeOptimizer(optimizer: Optimizer): void;
  restoreOptimizer(optimizer: Optimizer): void;
  setMeta(key: string, value: string): void;
  getMeta(key: string): string;
  /** Every metadata entry, in the order keys were first set. */
  meta(): Record<string, string>;
  step: number | bigint;
  readonly tensorCount: number;
  /** dtype from the typed array; shape defaults to [data.length], [] is a scalar. */
  addTensor(name: string, data: TensorData, shape?: Size[]): void;
  findTensor(name: string): number;
  hasTensor(name: string): boolean;
  tensorInfo(which: string | Size): TensorInfo;
  /** A copy of the elements, typed by the dtype. */
  tensorData(which: string | Size): TensorData;
  tensorNames(): string[];
  removeTensor(which: string | Size): void;
  setTensorGroup(which: string | Size, group: Size | null): void;
  /** The tokens of the embedding rows, or null without a vocabulary section; null removes it. */
  vocab: string[] | null;
  /** fastai's match_embeds; returns 1 for the new tokens. */
  remapVocab(newVocab: string[], names: string[]): Uint8Array;
  setSection(kind: 'optim' | 'rng', subkind: Size, bytes: Uint8Array | number[]): void;
  getSection(kind: 'optim' | 'rng'): { subkind: number; bytes: Uint8Array } | null;
  clearSection(kind: 'optim' | 'rng'): void;
}

export declare function crossEntropy(logits: Floats32, targets: Ints64, classes: Size,
                                     ignoreIndex?: number | bigint): { loss: number; dlogits: Float32Array };
export declare function accuracy(logits: Floats32, targets: Ints64, classes: Size, ignoreIndex?: number | bigint): number;

export declare function lrsEven(n: Size, lo: number, hi: number): Float64Array;
export declare function lrsSlice(n: Size, hi: number): Float64Array;
export declare function lrsFactor(n: Size, top: number, factor?: number): Float64Array;

export interface LrFindResult {
  lrs: Float64Array;
  losses: Float64Array;
  diverged: boolean;
  suggestions: { minimum: number; steep: number; valley: number } | null;
}
/** fastai's LR range test (libtl's experimental API). stepFn performs one
 * training step and returns its loss; an exception it throws ends the test
 * (models and optimizer restored) and is thrown again from lrFind. */
export declare function lrFind(optimizer: Optimizer, stepFn: () => number,
                               options?: { startLr?: number; endLr?: number; numIt?: Size; beta?: number;
                                           stopFactor?: number }): LrFindResult;

export declare namespace metrics {
  interface Base { base?: number }
  function klDivergence(p: Floats64, q: Floats64, options?: Base): number;
  function jsDivergence(p: Floats64, q: Floats64, options?: Base): number;
  function jsDistance(p: Floats64, q: Floats64, options?: Base): number;
  function entropy(p: Floats64, options?: Base): number;
  function renyiDivergence(p: Floats64, q: Floats64, alpha: number, options?: Base): number;
  function bhattacharyya(p: Floats64, q: Floats64): number;
  function hellinger(p: Floats64, q: Floats64): number;
  function totalVariation(p: Floats64, q: Floats64): number;
  function cosineSimilarity(u: Floats64, v: Floats64): number;
  function cosineDistance(u: Floats64, v: Floats64): number;
  function euclidean(u: Floats64, v: Floats64): number;
  function wasserstein1d(u: Floats64, v: Floats64,
                         options?: { uWeights?: Floats64 | null; vWeights?: Floats64 | null; p?: number }): number;
  function mmd2(x: Floats64, y: Floats64, d: Size, options?: { sigma?: number; unbiased?: boolean }): { mmd2: number; sigma: number };
  function coralDistance(xs: Floats64, xt: Floats64, d: Size): number;
  function frechetDistance(x1: Floats64, x2: Floats64, d: Size): number;

  // Optimal transport and part 2 of tl/metrics.h. Matrices are row-major,
  // one sample per row, with the column count d given.
  type Sizes = Size[] | BigUint64Array;
  interface Weights { xWeights?: Floats64 | null; yWeights?: Floats64 | null }
  function wasserstein1dHist(x: Floats64, a: Floats64, b: Floats64, options?: { p?: number }): number;
  function slicedWasserstein(x: Floats64, y: Floats64, d: Size,
                             options?: Weights & { nProjections?: Size; p?: number; seed?: Size }): number;
  function slicedWassersteinProjected(x: Floats64, y: Floats64, d: Size, projections: Floats64,
                                      options?: Weights & { p?: number }): number;
  function slicedDirections(k: Size, d: Size, seed?: Size): Float64Array;
  /** POT ot.sinkhorn2 (cost) and ot.sinkhorn (plan, when options.plan). */
  function sinkhorn(costMatrix: Floats64, n: Size, m: Size, reg: number,
                    options?: { a?: Floats64 | null; b?: Floats64 | null; maxIter?: Size; tol?: number; plan?: boolean }):
    { cost: number; plan: Float64Array | null; iterations: number; converged: boolean };
  function proxyADistance(xs: Floats64, xt: Floats64, d: Size,
                          options?: { trainFraction?: number; epochs?: Size; lr?: number; l2?: number; seed?: Size }):
    { distance: number; error: number };
  function coralAlign(xs: Floats64, xt: Floats64, d: Size, lambda?: number): Float64Array;
  function frechetDistanceGaussian(mu1: Floats64, cov1: Floats64, mu2: Floats64, cov2: Floats64): number;
  function termDistribution(ids: Ints64, vocabSize: Size, smoothing?: number): Float64Array;
  /** JS, Renyi, cosine, Euclidean, variational, Bhattacharyya (tl_selection_feature 0..5). */
  function termSimilarity(p: Floats64, q: Floats64, alpha?: number): Float64Array;
  /** n x 12 features, n = offsets.length - 1. */
  function selectionFeatures(ids: Ints64, offsets: Sizes, vocabSize: Size, target: Floats64,
                             options?: { wordVectors?: Floats64 | null; embedDim?: Size; renyiAlpha?: number;
                                         smoothing?: number }): Float64Array;
  function selectTop(features: Floats64, f: Size, theta: Floats64, k: Size): { indices: number[]; scores: Float64Array };
  function pcaFit(x: Floats64, d: Size, k: Size):
    { mean: Float64Array; components: Float64Array; variance: Float64Array; varianceRatio: Float64Array };
  function pcaTransform(x: Floats64, d: Size, mean: Floats64, components: Floats64): Float64Array;
  function pcaSelect(xs: Floats64, xt: Floats64, d: Size, k: Size,
                     options?: { nComponents?: Size; criterion?: 'centroid' | 'meanDistance'; fit?: 'target' | 'both' }):
    { indices: number[]; distances: Float64Array };
  function procrustes(x: Floats64, y: Floats64, d: Size): Float64Array;
  function cslsRetrieve(xq: Floats64, y: Floats64, d: Size, options?: { knn?: Size; top?: Size }):
    { indices: number[]; scores: Float64Array };
  function precisionAtK(retrieved: Sizes, top: Size, k: Size, goldSrc: Sizes, goldTgt: Sizes): number;
}
