"""tl.Progress: smoothed loss, callbacks, CSV and terminal output."""
import csv
import os
import subprocess
import sys

import pytest

import tl


def test_callbacks_and_smoothing(tmp_path):
    now = [0.0]
    steps, epochs = [], []
    p = tl.Progress(n_epochs=2, train_steps=4, terminal=False,
                    csv_steps=tmp_path / "s.csv", csv_epochs=tmp_path / "e.csv",
                    on_step=steps.append, on_epoch=epochs.append,
                    clock=lambda: now[0])
    losses = []
    for e in range(2):
        for k in range(4):
            now[0] += 1.5
            losses.append(2.0 / (1 + len(losses)))
            p.step(losses[-1], [1e-3, 2e-3])
        p.end_epoch(0.5 + e, {"accuracy": 0.25 * (e + 1)})
    p.close()
    b = 0.98
    n = len(losses)
    want = sum((1 - b) * b ** (n - 1 - i) * x for i, x in enumerate(losses)) / (1 - b ** n)
    assert steps[-1]["smooth_loss"] == pytest.approx(want, rel=1e-12)
    assert steps[3]["remaining"] == pytest.approx(6.0)   # 4 of 8 steps in 6 s
    assert steps[-1]["lrs"] == [1e-3, 2e-3]
    assert [r["metrics"] for r in epochs] == [{"accuracy": 0.25}, {"accuracy": 0.5}]
    assert epochs[1]["seconds"] == pytest.approx(6.0)
    rows = list(csv.reader(open(tmp_path / "e.csv")))
    assert rows[0] == ["epoch", "train_loss", "valid_loss", "accuracy", "time"]
    assert rows[2][0] == "1" and float(rows[2][1]) == pytest.approx(want, rel=1e-15)
    assert [float(v) for v in rows[2][2:4]] == [1.5, 0.5] and rows[2][4] == "00:06"
    assert len(list(csv.reader(open(tmp_path / "s.csv")))) == 9
    with pytest.raises(tl.NumericError):
        q = tl.Progress(terminal=False)
        q.step(float("nan"))


def test_terminal_reporter_on_a_pipe_writes_plain_lines():
    code = ("import tl\n"
            "p = tl.Progress(n_epochs=1, train_steps=10)\n"
            "[p.step(1.0, [0.1]) for _ in range(10)]\n"
            "p.end_epoch(0.9, {'accuracy': 0.5})\n"
            "p.close()\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), ".."))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60).stderr
    assert "\r" not in out
    assert "epoch 1/1 train 10/10 loss 1.0000" in out
    assert "epoch  train_loss  valid_loss  accuracy    time\n" in out
    assert "0      1.000000    0.900000    0.500000    00:00\n" in out
