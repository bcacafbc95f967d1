#!/usr/bin/env python3
"""make_ref.py -- PyTorch reference fixtures for tests/test_reference.c.

Regenerate (deterministic; Debian's python3-torch 1.13 + numpy, CPU only):

    /usr/bin/python3 tests/ref/make_ref.py

writes tests/fixtures/ref_multilabel.txt and tests/fixtures/ref_multiclass.txt. The fixtures are
committed, so `make test` never needs Python (llm.c's write_state idea, minus the download).

Model: torch.nn.LSTM(F, H, num_layers=2, batch_first=False) on x (T, B, F), then
torch.nn.Linear(H, K) on the last step's output of the top layer -> logits (B, K).
  * multi-label: T=4 B=3 F=2 H=5 K=3, nn.BCEWithLogitsLoss(pos_weight=..., reduction='mean')
    (C side: loss_bce_logits(..., norm = 1/(B*K)), reported sum / (B*K))
  * multi-class: T=4 B=3 F=2 H=5 K=4, nn.CrossEntropyLoss(reduction='mean')
    (C side: loss_softmax_ce(..., norm = 1/B), reported sum / B)

Parameter mapping to our flat layout (src/model.h), per layer l, then the head:
  w_l (4H, in_l + H) = torch.cat([weight_ih_l, weight_hh_l], dim=1)   row blocks i, f, g, o: the
                       gate order of nn.LSTM is ours, no reordering
  b_l (4H)           = bias_ih_l + bias_hh_l
  wd  (K, H)         = linear.weight
  bd  (K)            = linear.bias
Gradients use the same layout: grad w_l = cat([weight_ih_l.grad, weight_hh_l.grad], dim=1),
grad b_l = bias_ih_l.grad (== bias_hh_l.grad, both are d loss / d b_l).

Double bias: the model is only equivalent to ours under Adam if the sum b_ih + b_hh is ONE
parameter. Two separate torch parameters would each get an Adam step from the same gradient, so
their sum would move twice as far. So bias_ih_l holds our b_l, bias_hh_l is zero and frozen
(requires_grad=False: no Adam step, not part of clip_grad_norm_'s norm).

Optimiser: torch.optim.Adam(lr=1e-2, betas=(0.9, 0.999), eps=1e-7), 5 steps; each step zeroes
the grads, runs forward + loss + backward and steps. The "clip" variant calls
torch.nn.utils.clip_grad_norm_(params, max_norm) before each step, with max_norm below the
gradient norm so it really clips.

Values: parameters uniform(-0.5, 0.5) and inputs uniform(-1, 1), both rounded to 3 decimals and
held as float32, so the fixtures are short and both sides start from identical floats.

Fixture format (plain text, one record per line, '#' starts a comment line):
    name count v1 v2 ... v_count
Every value is printed with the shortest decimal that reads back (strtof) as the same float32.
Records:
    T B F H K layers   1 value each (shape)
    pos_weight         K (multi-label only)
    x                  T*B*F  input, (T, B, F) row-major
    y                  B*K 0/1 targets (multi-label) or B class indexes (multi-class)
    params             our flat layout, n_params values
    logits             B*K
    loss               1  (mean-reduced, as torch reports it)
    grads              n_params, our layout, d loss / d params for the mean-reduced loss
    lr beta1 beta2 eps 1 value each
    adam_losses        6: loss of the params after k Adam steps, k = 0..5 (k = 0 is `loss`)
    adam_params        n_params after 5 steps
    max_norm           1
    clip_norms         5: gradient norm before clipping at steps 1..5
    clip_losses        6: as adam_losses, with clipping
    clip_params        n_params after 5 clipped steps
"""
import os
import sys

import numpy as np
import torch

T, B, F, H = 4, 3, 2, 5
LAYERS = 2
STEPS = 5
LR, BETA1, BETA2, EPS = 1e-2, 0.9, 0.999, 1e-7


def f32(v):
    """Shortest decimal that reads back as the same float32."""
    return str(np.float32(v))


class Ref(torch.nn.Module):
    def __init__(self, k):
        super().__init__()
        self.lstm = torch.nn.LSTM(F, H, num_layers=LAYERS, batch_first=False)
        self.head = torch.nn.Linear(H, k)

    def forward(self, x):
        out, _ = self.lstm(x)          # (T, B, H) top layer outputs
        return self.head(out[-1])      # (B, K) from the last step

    def set_flat(self, flat):
        """Loads our flat layout; bias_hh is zeroed and frozen (see the docstring)."""
        off = 0
        with torch.no_grad():
            for l in range(LAYERS):
                inp = F if l == 0 else H
                w = torch.from_numpy(flat[off:off + 4 * H * (inp + H)].reshape(4 * H, inp + H))
                off += 4 * H * (inp + H)
                getattr(self.lstm, f"weight_ih_l{l}").copy_(w[:, :inp])
                getattr(self.lstm, f"weight_hh_l{l}").copy_(w[:, inp:])
                getattr(self.lstm, f"bias_ih_l{l}").copy_(torch.from_numpy(flat[off:off + 4 * H]))
                off += 4 * H
                bhh = getattr(self.lstm, f"bias_hh_l{l}")
                bhh.zero_()
                bhh.requires_grad_(False)
            k = self.head.weight.shape[0]
            self.head.weight.copy_(torch.from_numpy(flat[off:off + k * H].reshape(k, H)))
            off += k * H
            self.head.bias.copy_(torch.from_numpy(flat[off:off + k]))
            off += k
        assert off == flat.size

    def flat(self, grad=False):
        """Params (or their grads) in our flat layout, float32."""
        get = (lambda p: p.grad) if grad else (lambda p: p.detach())
        parts = []
        for l in range(LAYERS):
            parts.append(torch.cat([get(getattr(self.lstm, f"weight_ih_l{l}")),
                                    get(getattr(self.lstm, f"weight_hh_l{l}"))], dim=1).flatten())
            parts.append(get(getattr(self.lstm, f"bias_ih_l{l}")).flatten())
        parts.append(get(self.head.weight).flatten())
        parts.append(get(self.head.bias).flatten())
        return torch.cat(parts).numpy().astype(np.float32)

    def trainable(self):
        return [p for p in self.parameters() if p.requires_grad]


def n_params(k):
    n = 0
    for l in range(LAYERS):
        inp = F if l == 0 else H
        n += 4 * H * (inp + H) + 4 * H
    return n + k * H + k


def train(model, x, y, crit, max_norm=None):
    """STEPS Adam steps; returns (losses after k steps for k = 0..STEPS, pre-clip norms)."""
    opt = torch.optim.Adam(model.trainable(), lr=LR, betas=(BETA1, BETA2), eps=EPS)
    losses, norms = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = crit(model(x), y)
        losses.append(loss.item())
        loss.backward()
        if max_norm is not None:
            norms.append(torch.nn.utils.clip_grad_norm_(model.trainable(), max_norm).item())
        opt.step()
    with torch.no_grad():
        losses.append(crit(model(x), y).item())
    return losses, norms


def make_case(path, task, k, seed):
    rng = np.random.RandomState(seed)
    n = n_params(k)
    flat = np.round(rng.uniform(-0.5, 0.5, n), 3).astype(np.float32)
    x_np = np.round(rng.uniform(-1.0, 1.0, (T, B, F)), 3).astype(np.float32)
    x = torch.from_numpy(x_np)
    if task == "multilabel":
        pw_np = np.array([2.0, 0.5, 3.0], dtype=np.float32)[:k]
        y_np = rng.randint(0, 2, (B, k)).astype(np.float32)
        y = torch.from_numpy(y_np)
        crit = torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(pw_np), reduction="mean")
    else:
        pw_np = None
        y_np = rng.randint(0, k, B).astype(np.int64)
        y = torch.from_numpy(y_np)
        crit = torch.nn.CrossEntropyLoss(reduction="mean")

    model = Ref(k)
    model.set_flat(flat)
    assert np.array_equal(model.flat(), flat)
    logits = model(x)
    loss = crit(logits, y)
    loss.backward()
    grads = model.flat(grad=True)
    gnorm = float(np.sqrt(np.sum(grads.astype(np.float64) ** 2)))

    model.zero_grad()
    adam_losses, _ = train(model, x, y, crit)
    adam_params = model.flat()

    max_norm = float(np.float32(round(0.5 * gnorm, 3)))   # below every step's norm: always clips
    clip_model = Ref(k)
    clip_model.set_flat(flat)
    clip_losses, clip_norms = train(clip_model, x, y, crit, max_norm)
    assert all(nrm > max_norm for nrm in clip_norms), "max_norm must clip at every step"
    clip_params = clip_model.flat()

    rec = []

    def put(name, vals, fmt=f32):
        vals = np.asarray(vals).ravel()
        rec.append(f"{name} {vals.size} " + " ".join(fmt(v) for v in vals))

    for name, v in (("T", T), ("B", B), ("F", F), ("H", H), ("K", k), ("layers", LAYERS)):
        put(name, [v], str)
    if pw_np is not None:
        put("pos_weight", pw_np)
    put("x", x_np)
    put("y", y_np.astype(np.int64), str)
    put("params", flat)
    put("logits", logits.detach().numpy())
    put("loss", [loss.item()])
    put("grads", grads)
    for name, v in (("lr", LR), ("beta1", BETA1), ("beta2", BETA2), ("eps", EPS)):
        put(name, [v])
    put("adam_losses", adam_losses)
    put("adam_params", adam_params)
    put("max_norm", [max_norm])
    put("clip_norms", clip_norms)
    put("clip_losses", clip_losses)
    put("clip_params", clip_params)

    with open(path, "w") as fp:
        fp.write(f"# {task}: generated by tests/ref/make_ref.py (torch {torch.__version__}); "
                 "format and mapping in its docstring\n")
        fp.write("\n".join(rec) + "\n")
    print(f"{path}: {task}, {n} params, loss {loss.item():.6f}, |grad| {gnorm:.4f}, "
          f"max_norm {f32(max_norm)}")


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)   # nn.LSTM's own init is overwritten, but keep it reproducible anyway
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "fixtures")
    os.makedirs(out, exist_ok=True)
    make_case(os.path.normpath(os.path.join(out, "ref_multilabel.txt")), "multilabel", 3, 1234)
    make_case(os.path.normpath(os.path.join(out, "ref_multiclass.txt")), "multiclass", 4, 5678)
    return 0


if __name__ == "__main__":
    sys.exit(main())
