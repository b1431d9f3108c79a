# Runs when a task of the seed-000 sample times out (RunCommandOnTimeout).
print("hello world: a task timed out, running the timeout handler")
