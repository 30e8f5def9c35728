"""How a task is simulated: engines behind one interface, chosen once per task.

`base` defines the interface (refuse with a reason, estimate memory and work,
prepare once per task, evaluate a batch in one simulator call); `registry` holds the
engines and chooses; `aer` makes the simulators. Engines see circuits, observables and
arrays, never a communicator.
"""
