"""The ctypes Structures match the C structs field by field, and the version
numbers in tl/_versions.py match the headers: tests/layout/print_layout
(built by meson) prints sizeof/offsetof as the C compiler sees them, and the
headers themselves are parsed to check that the printer names every struct
and field. A header change the Python side misses fails here."""
import ctypes
import glob
import json
import os
import re
import subprocess

import pytest

from tl import (_native, _versions, arch, checkpoint, embed, learner, model,
                optim, plan, predict, progress, sched, text, transfer)
from tl.metrics import _alignment, _divergence

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")

# C struct -> the binding's ctypes Structure.
CTYPES = {
    "tl_batch": learner._Batch,
    "tl_batch_source": learner._BatchSource,
    "tl_clas_data_options": learner._ClasDataOptions,
    "tl_learner_options": learner._Options,
    "tl_host_metric": learner._HostMetric,
    "tl_learner_state": learner._State,
    "tl_callback": learner._Callback,
    "tl_monitor_options": learner._MonitorOptions,
    "tl_fit_options": learner._FitOptions,
    "tl_fit_one_cycle_options": learner._OneCycleOptions,
    "tl_fine_tune_options": learner._FineTuneOptions,
    "tl_fit_sgdr_options": learner._SgdrOptions,
    "tl_allocator": _native.Allocator,
    "tl_model_options": model._ModelOptions,
    "tl_embedding_options": model._EmbeddingOptions,
    "tl_lstm_options": model._LstmOptions,
    "tl_gru_options": model._GruOptions,
    "tl_batchnorm_options": model._BatchnormOptions,
    "tl_linear_options": model._LinearOptions,
    "tl_awd_lstm_options": arch._AwdLstmOptions,
    "tl_optim_options": optim._OptimOptions,
    "tl_sched_stlr_options": sched._Stlr,
    "tl_sched_cyclic_options": sched._Cyclic,
    "tl_sched_cosine_options": sched._Cosine,
    "tl_sched_cosine_restarts_options": sched._Restarts,
    "tl_sched_one_cycle_options": sched._OneCycle,
    "tl_sched_fastai_one_cycle_options": sched._Fastai,
    "tl_sched_linear_options": sched._Linear,
    "tl_sched_constant_options": sched._Constant,
    "tl_sched_step_options": sched._Step,
    "tl_sched_exponential_options": sched._Exponential,
    "tl_sched_multi_step_options": sched._MultiStep,
    "tl_lr_find_options": plan._LrFindOptions,
    "tl_lr_find_result": plan._Result,
    "tl_plan_stage": plan._Stage,
    "tl_plan_preset_options": plan._Preset,
    "tl_ckpt_tensor_desc": checkpoint._TensorDesc,
    "tl_ckpt_load_options": checkpoint._LoadOptions,
    "tl_model_load_options": checkpoint._ModelLoadOptions,
    "tl_sliced_options": _divergence._SlicedOptions,
    "tl_sinkhorn_options": _divergence._SinkhornOptions,
    "tl_mmd_options": _divergence._MmdOptions,
    "tl_proxy_a_options": _alignment._ProxyAOptions,
    "tl_selection_options": _alignment._SelectionOptions,
    "tl_pca_select_options": _alignment._PcaSelectOptions,
    "tl_csls_options": _alignment._CslsOptions,
    "tl_tokenizer_options": text._TokOptions,
    "tl_vocab_options": text._VocabOptions,
    "tl_lm_loader_options": text._LMOptions,
    "tl_clas_loader_options": text._ClasOptions,
    "tl_progress_record": progress._Record,
    "tl_epoch_record": progress._EpochRecord,
    "tl_progress_options": progress._Options,
    "tl_doc_encoder_options": predict._Options,
    "tl_task_sampler_options": transfer._SamplerOptions,
    "tl_sgns_options": embed._SgnsOptions,
}


def _program():
    path = os.environ.get("TL_LAYOUT_PROGRAM")
    if path:
        return path
    lib = os.environ.get("TL_LIBRARY", "")
    build = os.path.dirname(os.path.dirname(os.path.abspath(lib)))
    path = os.path.join(build, "tests", "layout", "print_layout")
    if not os.path.exists(path):
        if os.path.exists(os.path.join(build, "build.ninja")):
            pytest.fail("%s is missing: build the tree (ninja -C %s)"
                        % (path, build))
        pytest.skip("no build tree next to $TL_LIBRARY (set "
                    "TL_LAYOUT_PROGRAM to tests/layout/print_layout)")
    return path


@pytest.fixture(scope="module")
def layout():
    out = subprocess.run([_program()], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def _header_structs():
    """{typedef name: [field names]} parsed from include/tl/*.h."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "include", "tl", "*.h"))):
        with open(path) as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        for m in re.finditer(r"typedef struct (\w+) \{(.*?)\}\s*(\w+);",
                             text, re.S):
            fields = []
            for decl in m.group(2).split(";"):
                decl = " ".join(decl.split())
                if not decl:
                    continue
                fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)  # (*name)(...)
                fields.append(fp.group(1) if fp else
                              re.search(r"(\w+)\s*(\[[^\]]*\])?$",
                                        decl).group(1))
            found[m.group(3)] = fields
    return found


def _header_versions():
    found = {}
    for path in glob.glob(os.path.join(ROOT, "include", "tl", "*.h")):
        with open(path) as f:
            for name, value in re.findall(
                    r"^#define (TL_\w+_VERSION) (\d+)", f.read(), re.M):
                found[name] = int(value)
    return found


def test_the_printer_names_every_struct_and_field_of_the_headers(layout):
    printed = {name: [f[0] for f in s["fields"]]
               for name, s in layout["structs"].items()}
    assert printed == _header_structs(), \
        "tests/layout/print_layout.c is out of date with include/tl"


def test_every_public_struct_has_a_ctypes_structure(layout):
    assert sorted(layout["structs"]) == sorted(CTYPES)


@pytest.mark.parametrize("name", sorted(CTYPES))
def test_ctypes_layout_matches_c(layout, name):
    c = layout["structs"][name]
    cls = CTYPES[name]
    assert [f[0] for f in cls._fields_] == [f[0] for f in c["fields"]], name
    for field, offset, size in c["fields"]:
        desc = getattr(cls, field)
        assert (desc.offset, desc.size) == (offset, size), \
            "%s.%s: ctypes offset %d size %d, C offset %d size %d" % (
                name, field, desc.offset, desc.size, offset, size)
    assert ctypes.sizeof(cls) == c["size"], name


def test_versions_module_matches_the_headers(layout):
    ours = {"TL_" + k: v for k, v in vars(_versions).items()
            if k.endswith("_VERSION")}
    assert ours == layout["versions"]
    assert layout["versions"] == _header_versions()


def test_every_struct_has_a_version():
    # Each versioned struct's macro is TL_<NAME>_VERSION, <NAME> the
    # typedef without tl_ (the convention tl/_versions.py relies on).
    versions = _header_versions()
    for name in _header_structs():
        assert "TL_%s_VERSION" % name[3:].upper() in versions, name
