"""The what-if simulator: a week of tickets through the real routing policy.

``arrivals`` (the tickets and a synthetic generator), ``engine`` (the discrete-event
simulation around :func:`router.core.policy.decide`), ``report`` (figures per pool and
hour, staffing, two runs compared) and ``erlang`` (Erlang C). Pure like the rest of the
core: the CLI reads traces and configs and writes the outputs.
"""
