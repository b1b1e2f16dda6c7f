"""A complete deployment of ct-prima-sync on Celery (docs/deploy.md).

- ``webhook``: a Starlette app receiving commercetools subscription deliveries, refusing any
  without the shared secret, queueing each as a Celery task.
- ``tasks``: the Celery app: the delivery task and the three flows that Celery beat schedules.
- ``engine``: one ``SyncEngine`` per task, from the settings file every worker shares.
"""
