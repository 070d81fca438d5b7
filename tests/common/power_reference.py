#!/usr/bin/env python3
# The reference values of tests/common/power_test.cc: /usr/bin/python3 tests/common/power_reference.py
# (Debian: python3-mpmath). Independent of Boost.Math, which avctl (and SciPy) use.
# Independent reference for common/power: the noncentral t power by direct
# numerical integration over the chi-square mixing variable (mpmath, 30 digits),
# the t quantile by root finding on mpmath's regularised incomplete beta.
import mpmath as mp
mp.mp.dps = 30
def t_sf(x, df):  # P(T > x), Student t
    x = mp.mpf(x); df = mp.mpf(df)
    ib = mp.betainc(df/2, mp.mpf(1)/2, 0, df/(df+x*x), regularized=True)
    return ib/2 if x > 0 else 1 - ib/2
def t_isf(a, df):
    return mp.findroot(lambda x: t_sf(x, df) - a, 1.7)
def power(delta, sd, n, alpha):
    df = n - 1; c = t_isf(mp.mpf(alpha), df); ncp = mp.mpf(delta)*mp.sqrt(n)/sd
    k = mp.mpf(df)/2
    f = lambda v: mp.ncdf(ncp - c*mp.sqrt(v/df)) * v**(k-1)*mp.e**(-v/2)/(2**k*mp.gamma(k))
    return mp.quad(f, [0, df, 4*df+40, mp.inf])
def mdd(sd, n, alpha, pw=0.8):
    return mp.findroot(lambda d: power(d, sd, n, alpha) - pw, (mp.mpf(0), mp.mpf(20*sd)), solver='anderson', tol=1e-24)
cases=[(0.02,0.03,20,0.05),(0.02,0.03,20,0.05/6),(0.047,0.05,20,0.05),(0.01,0.05,5,0.05),(0.1,0.02,3,0.05),(0.0,0.03,20,0.05),(-0.01,0.03,20,0.05)]
for c in cases: print('power', c, mp.nstr(power(*c), 15))
for c in [(0.03,20,0.05),(0.03,20,0.05/6),(0.05,5,0.05),(0.01,2,0.05)]: print('mdd', c, mp.nstr(mdd(*c), 15))
for (d,sd,a,n) in [(0.02,0.03,0.05,15),(0.02,0.03,0.05,16),(0.02,0.03,0.05/6,26),(0.02,0.03,0.05/6,27),(0.005,0.05,0.05,619),(0.005,0.05,0.05,620)]: print('edge', (d,sd,a,n), mp.nstr(power(d,sd,n,a), 12))
