"""超时预警 alerts: deadlines that come close are announced once to a DingTalk or WeCom group robot
or a JSON webhook.

- :mod:`.models`: the channel and sent-log tables
- :mod:`.channels`: adding, listing and removing channels (secrets stored like shop secrets)
- :mod:`.message`: the Chinese message, several items batched into one
- :mod:`.robots`: the senders (DingTalk signing, WeCom, webhook), retried with back-off
- :mod:`.announce`: the pass after a shop's sync: queue what entered a window, send what is queued
- :mod:`.task`: the ``alerts`` worker task kind
- :mod:`.commands`: ``hub notify``

Kept light: the store imports :mod:`.models`, so this package imports nothing at import time.
"""
