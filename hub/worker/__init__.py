"""``hub worker``: sync tasks and the other background work, from a queue shared by many processes.

On PostgreSQL the queue is procrastinate's (any number of worker processes on any number of
machines); on SQLite it is the ``worker_tasks`` table, served by one worker process. In both, the
shop lease (``hub.sync.leases``) keeps one shop to one sync at a time, with fencing.
"""
