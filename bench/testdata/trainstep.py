"""PyTorch twin of bench/trainstep_test.go: times one training step (forward, backward,
AdamW) of the same Llama-style decoder on "threads" threads (default 1) and prints JSON.

Usage: trainstep.py '{"config": {...}, "B": 8, "T": 128, "steps": 5, "threads": 1}'
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d, H, K = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        hd, I = d // H, c["intermediate_size"]
        self.H, self.K, self.hd, self.eps = H, K, hd, c["rms_norm_eps"]
        self.ln1 = torch.nn.Parameter(torch.ones(d))
        self.ln2 = torch.nn.Parameter(torch.ones(d))
        self.q = torch.nn.Linear(d, H * hd, bias=False)
        self.k = torch.nn.Linear(d, K * hd, bias=False)
        self.v = torch.nn.Linear(d, K * hd, bias=False)
        self.o = torch.nn.Linear(H * hd, d, bias=False)
        self.gate = torch.nn.Linear(d, I, bias=False)
        self.up = torch.nn.Linear(d, I, bias=False)
        self.down = torch.nn.Linear(I, d, bias=False)

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        h = self.norm(x, self.ln1)
        q = self.q(h).view(B, T, self.H, self.hd).transpose(1, 2)
        k = self.k(h).view(B, T, self.K, self.hd).transpose(1, 2)
        v = self.v(h).view(B, T, self.K, self.hd).transpose(1, 2)
        rot = lambda t: torch.cat([-t[..., self.hd // 2:], t[..., : self.hd // 2]], dim=-1)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        if self.K != self.H:
            k = k.repeat_interleave(self.H // self.K, dim=1)
            v = v.repeat_interleave(self.H // self.K, dim=1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        a = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, -1)
        x = x + self.o(a)
        h = self.norm(x, self.ln2)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Decoder(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = torch.nn.Embedding(c["vocab_size"], c["hidden_size"])
        torch.nn.init.normal_(self.embed.weight, std=0.02)
        self.blocks = torch.nn.ModuleList(Block(c) for _ in range(c["num_hidden_layers"]))
        self.norm = torch.nn.Parameter(torch.ones(c["hidden_size"]))

    def forward(self, tokens):
        B, T = tokens.shape
        hd = self.c["hidden_size"] // self.c["num_attention_heads"]
        inv = self.c["rope_theta"] ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
        ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None]
        emb = torch.cat([ang, ang], dim=-1)
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.embed(tokens)
        for b in self.blocks:
            x = b(x, emb.cos(), emb.sin(), mask)
        x = self.blocks[0].norm(x, self.norm)
        return x @ self.embed.weight.T  # tied head


def main():
    args = json.loads(sys.argv[1])
    c, B, T = args["config"], args["B"], args["T"]
    torch.set_num_threads(args.get("threads", 1))
    torch.manual_seed(0)
    model = Decoder(c)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    tokens = torch.randint(0, c["vocab_size"], (B, T + 1))
    x, y = tokens[:, :-1], tokens[:, 1:]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x).reshape(B * T, -1), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    step()
    times = []
    for _ in range(args["steps"]):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"ms_per_step": 1000 * times[len(times) // 2], "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
