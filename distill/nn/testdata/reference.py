"""PyTorch reference for distill/nn (run by reference_test.go).

Usage: reference.py CASE_DIR [CASE_DIR ...]

Each CASE_DIR holds case.json (config, batch, options, and the parameter list) and one
raw little-endian float32 file per parameter. The script rebuilds the same Llama-style
decoder or encoder classifier in float64 from those weights, computes logits, the loss
and every parameter's gradient, and writes logits.bin, grad_<i>.bin (float64) and
out.json ({"loss": ...}) back into the directory.
"""
import json
import math
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)
DT = torch.float64


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, theta):
    """x is [B, heads, T, hd]; Hugging Face rotate_half convention."""
    T, hd = x.shape[-2], x.shape[-1]
    inv = theta ** (-torch.arange(0, hd, 2, dtype=DT) / hd)
    ang = torch.arange(T, dtype=DT)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
    return x * emb.cos() + torch.cat([-x2, x1], dim=-1) * emb.sin()


def attention(q, k, v, causal, valid):
    """q [B,H,T,hd], k/v [B,K,T,hd], valid [B,T] bool. Rows with no key give zeros."""
    B, H, T, hd = q.shape
    rep = H // k.shape[1]
    k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    s = q @ k.transpose(-1, -2) / math.sqrt(hd)
    allowed = valid[:, None, None, :].expand(B, H, T, T)
    if causal:
        allowed = allowed & torch.ones(T, T, dtype=torch.bool).tril()
    s = s.masked_fill(~allowed, float("-inf"))
    p = torch.softmax(s, dim=-1)
    p = torch.where(allowed.any(-1, keepdim=True), p, torch.zeros_like(p))
    return p @ v


def forward(cfg, W, tokens, valid):
    B, T = tokens.shape
    H, K = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = cfg["hidden_size"]
    hd = d // H
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    causal = cfg["arch"] == "decoder"
    x = W["model.embed_tokens.weight"][tokens]
    for l in range(cfg["num_hidden_layers"]):
        p = lambda s: W[f"model.layers.{l}.{s}"]
        h = rmsnorm(x, p("input_layernorm.weight"), eps)
        q = (h @ p("self_attn.q_proj.weight").T).view(B, T, H, hd).transpose(1, 2)
        k = (h @ p("self_attn.k_proj.weight").T).view(B, T, K, hd).transpose(1, 2)
        v = (h @ p("self_attn.v_proj.weight").T).view(B, T, K, hd).transpose(1, 2)
        a = attention(rope(q, theta), rope(k, theta), v, causal, valid)
        x = x + a.transpose(1, 2).reshape(B, T, H * hd) @ p("self_attn.o_proj.weight").T
        h = rmsnorm(x, p("post_attention_layernorm.weight"), eps)
        g, u = h @ p("mlp.gate_proj.weight").T, h @ p("mlp.up_proj.weight").T
        x = x + (torch.nn.functional.silu(g) * u) @ p("mlp.down_proj.weight").T
    x = rmsnorm(x, W["model.norm.weight"], eps)
    if causal:
        head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
        return x @ head.T
    if cfg["pooling"] == "first":
        pooled = x[:, 0]
    else:
        m = valid.to(DT)[:, :, None]
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1)
    return pooled @ W["classifier.weight"].T + W["classifier.bias"]


def loss_fn(cfg, logits, batch, opts, B, T):
    weights = torch.tensor(batch["weights"] or [1.0] * B, dtype=DT)
    if cfg["arch"] == "decoder":
        tg = torch.tensor(batch["targets"]).view(B * T)
        z = logits.view(B * T, -1)
        ce = torch.nn.functional.cross_entropy(z, tg.clamp(min=0), reduction="none")
        keep = (tg != -1).to(DT)
        w = weights.repeat_interleave(T)
        return (ce * keep * w).sum() / keep.sum().clamp(min=1)
    labels = torch.tensor(batch["labels"])
    ce = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    soft, alpha, tau = batch.get("soft"), opts["alpha"], opts["temperature"]
    if not soft or alpha == 0:
        return (ce * weights).sum() / B
    p = torch.tensor(soft, dtype=DT).view(B, -1)
    pt = torch.where(p > 0, p.clamp(min=1e-300).log() / tau, torch.full_like(p, float("-inf")))
    pt = torch.softmax(pt, dim=-1)
    logqt = torch.log_softmax(logits / tau, dim=-1)
    kl = torch.where(pt > 0, pt * (pt.clamp(min=1e-300).log() - logqt), torch.zeros_like(pt)).sum(-1)
    return (weights * ((1 - alpha) * ce + alpha * tau * tau * kl)).sum() / B


def run(case_dir):
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    cfg, batch, opts = case["config"], case["batch"], case["options"]
    B, T = batch["B"], batch["T"]
    W, order = {}, []
    for p in case["params"]:
        raw = np.fromfile(os.path.join(case_dir, p["file"]), dtype="<f4").astype(np.float64)
        W[p["name"]] = torch.tensor(raw.reshape(p["shape"]), requires_grad=True)
        order.append(p["name"])
    tokens = torch.tensor(batch["tokens"]).view(B, T)
    valid = torch.tensor(batch["valid"] or [1.0] * (B * T)).view(B, T) != 0
    logits = forward(cfg, W, tokens, valid)
    loss = loss_fn(cfg, logits, batch, opts, B, T)
    loss.backward()
    logits.detach().numpy().astype("<f8").tofile(os.path.join(case_dir, "logits.bin"))
    for i, name in enumerate(order):
        W[name].grad.numpy().astype("<f8").tofile(os.path.join(case_dir, f"grad_{i}.bin"))
    with open(os.path.join(case_dir, "out.json"), "w") as f:
        json.dump({"loss": loss.item()}, f)


if __name__ == "__main__":
    for d in sys.argv[1:]:
        run(d)
