"""Independent Bradley-Terry MLE for tslm's tests (SciPy L-BFGS-B).

Reads Chatbot-Arena-format battles (JSONL: model_a, model_b, winner[, style])
and prints {"converged": bool, "ratings": {model: rating}, "beta": [...]}.
Ties count half a win for each side; rating = 400 * t + 1000 with mean(t) = 0
(or shifted so --anchor MODEL RATING holds). With --style F1,F2 the style
features (a - b) / (a + b + 1), z-scored, enter the logit and every parameter
gets an L2 penalty l2/2 * |theta|^2 (Chatbot Arena's style control).
Usage: python3 bt_reference.py BATTLES.jsonl [--anchor MODEL RATING] [--style F1,F2 --l2 0.5]
"""
import argparse
import json

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

ap = argparse.ArgumentParser()
ap.add_argument("battles")
ap.add_argument("--anchor", nargs=2)
ap.add_argument("--style")
ap.add_argument("--l2", type=float, default=0.5)
args = ap.parse_args()

rows = [json.loads(line) for line in open(args.battles) if line.strip()]
models = sorted({r["model_a"] for r in rows} | {r["model_b"] for r in rows})
index = {m: i for i, m in enumerate(models)}
a = np.array([index[r["model_a"]] for r in rows])
b = np.array([index[r["model_b"]] for r in rows])
score = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}
y = np.array([score[r["winner"]] for r in rows])
n = len(models)
alpha = np.log(10.0)

if args.style:
    names = args.style.split(",")
    pa = np.array([[r["style"][f][0] for f in names] for r in rows], dtype=float)
    pb = np.array([[r["style"][f][1] for f in names] for r in rows], dtype=float)
    feats = (pa - pb) / (pa + pb + 1.0)
    feats = (feats - feats.mean(axis=0)) / feats.std(axis=0)
    reg = args.l2
else:
    feats = np.zeros((len(rows), 0))
    reg = 0.0
k = feats.shape[1]


def loss_grad(theta):
    t, beta = theta[:n], theta[n:]
    x = alpha * (t[a] - t[b]) + feats @ beta
    loss = -(y * log_expit(x) + (1 - y) * log_expit(-x)).sum() + 0.5 * reg * theta @ theta
    e = expit(x) - y
    g = np.zeros(n + k)
    g[:n] = alpha * (np.bincount(a, weights=e, minlength=n) - np.bincount(b, weights=e, minlength=n))
    g[n:] = feats.T @ e
    return loss, g + reg * theta


res = minimize(loss_grad, np.zeros(n + k), jac=True, method="L-BFGS-B",
               options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 20000, "maxcor": 30})
t = res.x[:n]
if reg == 0.0:
    t = t - t.mean()
rating = 400.0 * t + 1000.0
if args.anchor:
    rating += float(args.anchor[1]) - rating[index[args.anchor[0]]]
print(json.dumps({"converged": bool(res.success), "ratings": {m: float(rating[i]) for i, m in enumerate(models)},
                  "beta": [float(v) for v in res.x[n:]]}))
