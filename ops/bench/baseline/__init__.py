"""The yardstick of ops/bench/run.sh: plain Starlette + asyncpg (app.py). Not a product path."""
