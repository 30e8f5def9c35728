"""What is simulated: parametrized circuits as data, their builders, observables, sampling.

Imports run one way: builders → families / user sources → description → records.
Nothing here knows about Aer methods, engines or MPI.
"""
