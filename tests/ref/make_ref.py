#!/usr/bin/env python3
"""make_ref.py -- PyTorch reference fixtures for tests/test_reference.c.

Regenerate (deterministic; Debian's python3-torch 1.13 + numpy, CPU only):

    /usr/bin/python3 tests/ref/make_ref.py

writes tests/fixtures/ref_multilabel.txt, ref_multiclass.txt and the bidirectional cases
ref_bi*.txt (table below). The fixtures are committed, so `make test` never needs Python (llm.c's
write_state idea, minus the download).

Model: torch.nn.LSTM(F, H, num_layers=2, batch_first=False) on x (T, B, F), then
torch.nn.Linear(H, K) on the last step's output of the top layer -> logits (B, K).
  * multi-label: T=4 B=3 F=2 H=5 K=3, nn.BCEWithLogitsLoss(pos_weight=..., reduction='mean')
    (C side: loss_bce_logits(..., norm = 1/(B*K)), reported sum / (B*K))
  * multi-class: T=4 B=3 F=2 H=5 K=4, nn.CrossEntropyLoss(reduction='mean')
    (C side: loss_softmax_ce(..., norm = 1/B), reported sum / B)

Bidirectional top layer (our dirs = 2, `train --bidirectional`): the layers below the top are
torch.nn.LSTM(F, H, num_layers=layers-1) (unidirectional over the whole window), the top layer is
torch.nn.LSTM(in, H, bidirectional=True) and the head torch.nn.Linear(2H, K) reads its output at
the labelled row t* = T - 1 - label_offset: out[t*] = [h_forward(t*) | h_reverse(t*)], where the
reverse direction starts (zero state) at the window's last row. label_offset = T // 2 for a
centred label (our --label-at center), 0 for the last row. T=4 B=3 F=2 H=5:
    ref_bi1_center_multilabel.txt   1 layer,  centred (t* = 1),  BCE + pos_weight, K=3
    ref_bi1_last_multilabel.txt     1 layer,  last row (t* = 3), BCE + pos_weight, K=3
    ref_bi2_center_multilabel.txt   2 layers, centred,           BCE + pos_weight, K=3
    ref_bi2_center_multiclass.txt   2 layers, centred,           CE, K=4
    ref_bi1_last_multiclass.txt     1 layer,  last row,          CE, K=4

Parameter mapping to our flat layout (src/nn/model.h), per layer l, then the head:
  w_l (4H, in_l + H) = torch.cat([weight_ih_l, weight_hh_l], dim=1)   row blocks i, f, g, o: the
                       gate order of nn.LSTM is ours, no reordering
  b_l (4H)           = bias_ih_l + bias_hh_l
then, bidirectional only, the top layer's reverse direction (l = layers - 1, in its own module
index 0):
  wr  (4H, in + H)   = torch.cat([weight_ih_l0_reverse, weight_hh_l0_reverse], dim=1)
  br  (4H)           = bias_ih_l0_reverse + bias_hh_l0_reverse
then the head:
  wd  (K, dirs*H)    = linear.weight (columns [forward | reverse] when bidirectional)
  bd  (K)            = linear.bias
Gradients use the same layout: grad w_l = cat([weight_ih_l.grad, weight_hh_l.grad], dim=1),
grad b_l = bias_ih_l.grad (== bias_hh_l.grad, both are d loss / d b_l), and so for wr, br.

Double bias: the model is only equivalent to ours under Adam if the sum b_ih + b_hh is ONE
parameter. Two separate torch parameters would each get an Adam step from the same gradient, so
their sum would move twice as far. So bias_ih_l holds our b_l, bias_hh_l is zero and frozen
(requires_grad=False: no Adam step, not part of clip_grad_norm_'s norm); bias_hh_l0_reverse
likewise.

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
    dirs label_offset  1 value each, bidirectional fixtures only (absent: 1 direction, head on
                       the last row)
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
STEPS = 5
LR, BETA1, BETA2, EPS = 1e-2, 0.9, 0.999, 1e-7


def f32(v):
    """Shortest decimal that reads back as the same float32."""
    return str(np.float32(v))


class Ref(torch.nn.Module):
    def __init__(self, k, layers, dirs, label_offset):
        super().__init__()
        self.layers, self.dirs, self.label_offset = layers, dirs, label_offset
        if dirs == 1:
            self.lstm = torch.nn.LSTM(F, H, num_layers=layers, batch_first=False)
        else:
            if layers > 1:
                self.lower = torch.nn.LSTM(F, H, num_layers=layers - 1, batch_first=False)
            self.top = torch.nn.LSTM(F if layers == 1 else H, H, batch_first=False,
                                     bidirectional=True)
        self.head = torch.nn.Linear(dirs * H, k)

    def units(self):
        """(module, torch parameter suffix, input width) for each of our (w, b) blocks, in our
        layout order: layers 0..L-1, then the top layer's reverse direction."""
        if self.dirs == 1:
            return [(self.lstm, f"_l{l}", F if l == 0 else H) for l in range(self.layers)]
        u = [(self.lower, f"_l{l}", F if l == 0 else H) for l in range(self.layers - 1)]
        top_in = F if self.layers == 1 else H
        return u + [(self.top, "_l0", top_in), (self.top, "_l0_reverse", top_in)]

    def forward(self, x):
        if self.dirs == 1:
            out, _ = self.lstm(x)      # (T, B, H) top layer outputs
            return self.head(out[-1])  # (B, K) from the last step
        if self.layers > 1:
            x, _ = self.lower(x)       # (T, B, H), forward over the whole window
        out, _ = self.top(x)           # (T, B, 2H) = [forward | reverse] at every row
        return self.head(out[x.shape[0] - 1 - self.label_offset])  # the labelled row

    def set_flat(self, flat):
        """Loads our flat layout; bias_hh is zeroed and frozen (see the docstring)."""
        off = 0
        with torch.no_grad():
            for mod, sfx, inp in self.units():
                w = torch.from_numpy(flat[off:off + 4 * H * (inp + H)].reshape(4 * H, inp + H))
                off += 4 * H * (inp + H)
                getattr(mod, f"weight_ih{sfx}").copy_(w[:, :inp])
                getattr(mod, f"weight_hh{sfx}").copy_(w[:, inp:])
                getattr(mod, f"bias_ih{sfx}").copy_(torch.from_numpy(flat[off:off + 4 * H]))
                off += 4 * H
                bhh = getattr(mod, f"bias_hh{sfx}")
                bhh.zero_()
                bhh.requires_grad_(False)
            k, hd = self.head.weight.shape
            self.head.weight.copy_(torch.from_numpy(flat[off:off + k * hd].reshape(k, hd)))
            off += k * hd
            self.head.bias.copy_(torch.from_numpy(flat[off:off + k]))
            off += k
        assert off == flat.size

    def flat(self, grad=False):
        """Params (or their grads) in our flat layout, float32."""
        get = (lambda p: p.grad) if grad else (lambda p: p.detach())
        parts = []
        for mod, sfx, _ in self.units():
            parts.append(torch.cat([get(getattr(mod, f"weight_ih{sfx}")),
                                    get(getattr(mod, f"weight_hh{sfx}"))], dim=1).flatten())
            parts.append(get(getattr(mod, f"bias_ih{sfx}")).flatten())
        parts.append(get(self.head.weight).flatten())
        parts.append(get(self.head.bias).flatten())
        return torch.cat(parts).numpy().astype(np.float32)

    def trainable(self):
        return [p for p in self.parameters() if p.requires_grad]


def n_params(k, layers, dirs):
    n = 0
    for l in range(layers):
        inp = F if l == 0 else H
        n += 4 * H * (inp + H) + 4 * H
    if dirs == 2:
        inp = F if layers == 1 else H
        n += 4 * H * (inp + H) + 4 * H
    return n + k * dirs * H + k


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


def make_case(path, task, k, seed, layers=2, dirs=1, label_offset=0):
    assert dirs == 2 or label_offset == 0, "one direction: the head reads the last row"
    rng = np.random.RandomState(seed)
    n = n_params(k, layers, dirs)
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

    model = Ref(k, layers, dirs, label_offset)
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
    clip_model = Ref(k, layers, dirs, label_offset)
    clip_model.set_flat(flat)
    clip_losses, clip_norms = train(clip_model, x, y, crit, max_norm)
    assert all(nrm > max_norm for nrm in clip_norms), "max_norm must clip at every step"
    clip_params = clip_model.flat()

    rec = []

    def put(name, vals, fmt=f32):
        vals = np.asarray(vals).ravel()
        rec.append(f"{name} {vals.size} " + " ".join(fmt(v) for v in vals))

    for name, v in (("T", T), ("B", B), ("F", F), ("H", H), ("K", k), ("layers", layers)):
        put(name, [v], str)
    if dirs == 2:
        put("dirs", [dirs], str)
        put("label_offset", [label_offset], str)
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

    what = task
    if dirs == 2:
        what += (f", {layers} layer{'s' if layers > 1 else ''}, bidirectional top layer, head at "
                 f"row {T - 1 - label_offset} of {T}")
    with open(path, "w") as fp:
        fp.write(f"# {what}: generated by tests/ref/make_ref.py (torch {torch.__version__}); "
                 "format and mapping in its docstring\n")
        fp.write("\n".join(rec) + "\n")
    print(f"{path}: {what}, {n} params, loss {loss.item():.6f}, |grad| {gnorm:.4f}, "
          f"max_norm {f32(max_norm)}")


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)   # nn.LSTM's own init is overwritten, but keep it reproducible anyway
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "fixtures")
    os.makedirs(out, exist_ok=True)
    make_case(os.path.normpath(os.path.join(out, "ref_multilabel.txt")), "multilabel", 3, 1234)
    make_case(os.path.normpath(os.path.join(out, "ref_multiclass.txt")), "multiclass", 4, 5678)
    centre = T // 2   # label_offset of --label-at center
    for name, task, k, seed, layers, offset in (
            ("ref_bi1_center_multilabel.txt", "multilabel", 3, 2101, 1, centre),
            ("ref_bi1_last_multilabel.txt", "multilabel", 3, 2102, 1, 0),
            ("ref_bi2_center_multilabel.txt", "multilabel", 3, 2103, 2, centre),
            ("ref_bi2_center_multiclass.txt", "multiclass", 4, 2104, 2, centre),
            ("ref_bi1_last_multiclass.txt", "multiclass", 4, 2105, 1, 0)):
        make_case(os.path.normpath(os.path.join(out, name)), task, k, seed, layers, 2, offset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
