#!/usr/bin/python3
"""Reference values for tests/common/effect_size_test.cc, from scipy (Debian
12's python3-scipy 1.10.1) the way rliable computes them:
aggregate_iqm = scipy.stats.trim_mean(all scores, 0.25);
probability_of_improvement = mean over tasks of mannwhitneyu(x, y,
alternative='greater').statistic / (n_x n_y).

Run: /usr/bin/python3 tests/common/effect_size_reference.py
"""
import numpy as np
import scipy.stats

# Two partitions (rliable's tasks) of unequal run counts, with ties.
x = [[0.712, 0.698, 0.731, 0.705, 0.720, 0.698, 0.744], [0.690, 0.702, 0.715, 0.688, 0.709]]
y = [[0.701, 0.698, 0.689, 0.712, 0.694, 0.700], [0.681, 0.702, 0.693, 0.699, 0.690, 0.677, 0.700]]

def iqm(strata):
    return scipy.stats.trim_mean(np.concatenate([np.asarray(s) for s in strata]), proportiontocut=0.25)

def poi(a, b):
    return np.mean([scipy.stats.mannwhitneyu(sa, sb, alternative="greater").statistic / (len(sa) * len(sb))
                    for sa, sb in zip(a, b)])

print(f"iqm(x) = {iqm(x):.17g}")
print(f"iqm(y) = {iqm(y):.17g}")
print(f"poi(x, y) = {poi(x, y):.17g}")
print(f"poi(y, x) = {poi(y, x):.17g}")
