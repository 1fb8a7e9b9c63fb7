"""The one Django app of the peers benchmark: a record with an FSMField (benchmarks/peers/django_fsm.py)."""
