"""PyTorch interop of tl.checkpoint: torch state dicts into tl.Model and
back, with outputs compared."""
import numpy as np
import pytest

import tl
from tl import checkpoint
from tl.checkpoint import Checkpoint

torch = pytest.importorskip("torch")
nn = torch.nn

V, E, H, T, B = 11, 6, 7, 5, 3


class TorchLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.rnn = nn.LSTM(E, H, num_layers=2)
        self.out = nn.Linear(H, V)

    def forward(self, ids):
        return self.out(self.rnn(self.emb(ids))[0])


def _tl_lm():
    m = tl.Model()
    m.add_embedding("emb", V, E)
    m.add_lstm("rnn", E, H, num_layers=2)
    m.add_linear("out", H, V)
    m.eval()
    return m


def _ids(seed=0):
    return np.random.default_rng(seed).integers(0, V, size=(T, B))


def test_torch_lm_round_trips_through_libtl(tmp_path):
    torch.manual_seed(0)
    ref = TorchLM().eval()
    path = tmp_path / "lm.tlc"
    ck = checkpoint.from_torch(ref.state_dict(), path)
    assert list(ck.keys())[:2] == ["emb.weight", "rnn.weight_ih_l0"]
    model = _tl_lm()
    missing, unexpected = model.load(path)
    assert missing == [] and unexpected == []
    ids = _ids()
    with torch.no_grad():
        want = ref(torch.from_numpy(ids)).numpy()
    got = model.forward(ids)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    # libtl -> file -> torch: the same weights, bit for bit.
    back_path = tmp_path / "back.tlc"
    model.save(back_path)
    sd = checkpoint.to_torch(back_path)
    fresh = TorchLM().eval()
    fresh.load_state_dict(sd, strict=True)
    for key, value in ref.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    with torch.no_grad():
        np.testing.assert_array_equal(fresh(torch.from_numpy(ids)).numpy(),
                                      want)


def test_load_validates_before_touching_the_model(tmp_path):
    torch.manual_seed(1)
    ref = TorchLM()
    sd = ref.state_dict()
    model = _tl_lm()
    before = Checkpoint.from_model(model)
    # A wrong shape on the last tensor: nothing may change.
    bad = dict(sd)
    bad["out.bias"] = torch.zeros(V + 1)
    with pytest.raises(tl.ShapeError, match="out.bias"):
        checkpoint.from_torch(bad).load_into(model)
    after = Checkpoint.from_model(model)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])
    # Strict vs non-strict with an extra and a missing tensor.
    partial = dict(sd)
    del partial["rnn.bias_hh_l1"]
    partial["head.weight"] = torch.zeros(2, 2)
    with pytest.raises(tl.NotFoundError, match="rnn.bias_hh_l1"):
        checkpoint.from_torch(partial).load_into(model)
    missing, unexpected = checkpoint.from_torch(partial).load_into(
        model, strict=False)
    assert missing == ["rnn.bias_hh_l1"] and unexpected == ["head.weight"]


def test_prefix_and_name_map():
    torch.manual_seed(2)
    ref = TorchLM()
    wrapped = {"0." + k: v for k, v in ref.state_dict().items()}
    ck = checkpoint.from_torch(wrapped)
    model = _tl_lm()
    ck.load_into(model, prefix="0.")
    got = Checkpoint.from_model(model)
    np.testing.assert_array_equal(got["emb.weight"],
                                  ref.emb.weight.detach().numpy())
    renamed = checkpoint.from_torch(ref.state_dict(),
                                    name_map={"out.weight": "fc.weight",
                                              "out.bias": "fc.bias"})
    assert "fc.weight" in renamed
    renamed.load_into(model, name_map={"fc.weight": "out.weight",
                                       "fc.bias": "out.bias"})


# ---- fastai AWD_LSTM naming ------------------------------------------------

class WeightDropout(nn.Module):
    """fastai's WeightDropout parameter layout (eval mode: no dropout): the
    LSTM's weight_hh_l0 lives on as weight_hh_l0_raw."""

    def __init__(self, module):
        super().__init__()
        self.module = module
        w = getattr(module, "weight_hh_l0")
        del module._parameters["weight_hh_l0"]
        self.register_parameter("weight_hh_l0_raw", nn.Parameter(w.data))
        setattr(module, "weight_hh_l0", w.data.clone())

    def forward(self, x):
        # A plain tensor (not the Parameter), as F.dropout returns in fastai.
        setattr(self.module, "weight_hh_l0", self.weight_hh_l0_raw * 1)
        return self.module(x)


class EmbeddingDropout(nn.Module):
    def __init__(self, emb):
        super().__init__()
        self.emb = emb


class AWDLSTM(nn.Module):
    """fastai's AWD_LSTM + LinearDecoder naming (SequentialRNN "0.", "1.")
    in eval mode, with a tied decoder."""

    def __init__(self):
        super().__init__()
        enc = nn.Module()
        enc.encoder = nn.Embedding(V, E)
        enc.encoder_dp = EmbeddingDropout(enc.encoder)
        enc.rnns = nn.ModuleList([WeightDropout(nn.LSTM(E, H, 1)),
                                  WeightDropout(nn.LSTM(H, E, 1))])
        dec = nn.Module()
        dec.decoder = nn.Linear(E, V)
        dec.decoder.weight = enc.encoder.weight
        self.add_module("0", enc)
        self.add_module("1", dec)

    def forward(self, ids):
        enc, dec = getattr(self, "0"), getattr(self, "1")
        x = enc.encoder(ids)
        for rnn in enc.rnns:
            x = rnn(x)[0]
        return dec.decoder(x)


def test_fastai_awd_lstm_state_dict(tmp_path):
    torch.manual_seed(3)
    ref = AWDLSTM().eval()
    sd = ref.state_dict()
    assert "0.rnns.0.weight_hh_l0_raw" in sd and "0.encoder_dp.emb.weight" in sd
    path = tmp_path / "awd.tlc"
    ck = checkpoint.from_torch(sd, path, naming="fastai", vocab=[
        "w%d" % i for i in range(V)])
    assert set(ck.keys()) == {
        "0.encoder.weight", "0.rnns_0.weight_ih_l0", "0.rnns_0.weight_hh_l0",
        "0.rnns_0.bias_ih_l0", "0.rnns_0.bias_hh_l0", "0.rnns_1.weight_ih_l0",
        "0.rnns_1.weight_hh_l0", "0.rnns_1.bias_ih_l0", "0.rnns_1.bias_hh_l0",
        "1.decoder.bias"}
    assert ck.meta["torch.tied.1.decoder.weight"] == "0.encoder.weight"
    model = tl.Model()
    model.add_embedding("encoder", V, E)
    model.add_lstm("rnns_0", E, H)
    model.add_lstm("rnns_1", H, E)
    model.add_decoder("decoder", E, V, tie=model, tie_layer="encoder")
    model.eval()
    loaded = Checkpoint.load(path)
    loaded.load_into(model, prefix="0.", strict=False)
    loaded.load_into(model, prefix="1.", strict=False)
    ids = _ids(4)
    with torch.no_grad():
        want = ref(torch.from_numpy(ids)).numpy()
    np.testing.assert_allclose(model.forward(ids), want, rtol=1e-5,
                               atol=1e-6)
    # Back to fastai names: loads strictly into the fastai layout.
    fresh = AWDLSTM().eval()
    fresh.load_state_dict(checkpoint.to_torch(path, naming="fastai"),
                          strict=True)
    with torch.no_grad():
        np.testing.assert_array_equal(fresh(torch.from_numpy(ids)).numpy(),
                                      want)


def match_embeds(old_wgts, old_vocab, new_vocab):
    """fastai.text.learner.match_embeds (fastai 2.7), transcribed."""
    bias, wgts = old_wgts.get("1.decoder.bias", None), old_wgts["0.encoder.weight"]
    wgts_m = wgts.mean(0)
    new_wgts = wgts.new_zeros((len(new_vocab), wgts.size(1)))
    if bias is not None:
        bias_m = bias.mean(0)
        new_bias = bias.new_zeros((len(new_vocab),))
    old_o2i = {w: i for i, w in enumerate(old_vocab)}
    for i, w in enumerate(new_vocab):
        idx = old_o2i.get(w, -1)
        new_wgts[i] = wgts[idx] if idx >= 0 else wgts_m
        if bias is not None:
            new_bias[i] = bias[idx] if idx >= 0 else bias_m
    old_wgts["0.encoder.weight"] = new_wgts
    if bias is not None:
        old_wgts["1.decoder.bias"] = new_bias
    return old_wgts


def test_remap_vocab_matches_fastai():
    torch.manual_seed(5)
    old_vocab = ["xxunk", "xxpad", "the", "a", "movie", "the", "film"]
    new_vocab = ["xxunk", "xxpad", "film", "great", "the", "plot", "a"]
    wgts = {"0.encoder.weight": torch.randn(len(old_vocab), 5),
            "1.decoder.bias": torch.randn(len(old_vocab))}
    ck = Checkpoint({k: v.numpy() for k, v in wgts.items()}, vocab=old_vocab)
    is_new = ck.remap_vocab(new_vocab, ["0.encoder.weight", "1.decoder.bias"])
    want = match_embeds({k: v.clone() for k, v in wgts.items()}, old_vocab,
                        new_vocab)
    assert ck.vocab == new_vocab
    assert list(is_new) == [w not in old_vocab for w in new_vocab]
    for name in want:
        # libtl takes the mean in double then rounds once; torch sums in
        # float32: equal to a few ulps.
        np.testing.assert_allclose(ck[name], want[name].numpy(), rtol=1e-6,
                                   atol=1e-7)


def test_batchnorm_head_state_dict_round_trips_with_its_statistics(tmp_path):
    # fastai's head layout: Linear -> ReLU -> BatchNorm1d -> Linear; after a
    # few train-mode batches torch's statistics are not the initial ones.
    torch.manual_seed(0)
    head = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.BatchNorm1d(6),
                         nn.Linear(6, 3))
    head.train()
    for _ in range(3):
        head(torch.randn(8, 4) * 2 + 1)
    head.eval()
    sd = head.state_dict()
    assert sd["2.num_batches_tracked"].dtype == torch.int64
    names = {"0.weight": "fc1.weight", "0.bias": "fc1.bias",
             "2.weight": "bn.weight", "2.bias": "bn.bias",
             "2.running_mean": "bn.running_mean",
             "2.running_var": "bn.running_var",
             "2.num_batches_tracked": "bn.num_batches_tracked",
             "3.weight": "fc2.weight", "3.bias": "fc2.bias"}
    path = str(tmp_path / "head.tlc")
    checkpoint.from_torch(sd, path, name_map=names)
    m = tl.Model()
    m.add_linear("fc1", 4, 6, activation="relu")
    m.add_batchnorm1d("bn", 6)
    m.add_linear("fc2", 6, 3)
    assert m.load(path) == ([], [])  # strict: buffers included
    assert m.buffer("bn.num_batches_tracked") == 3
    m.eval()
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        want = head(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(m.forward(x), want, rtol=1e-5, atol=1e-6)
    m.save(path)
    back = checkpoint.to_torch(path, name_map=names)
    assert back["2.num_batches_tracked"].dtype == torch.int64
    assert int(back["2.num_batches_tracked"]) == 3
    torch.testing.assert_close(back["2.running_var"], sd["2.running_var"])
