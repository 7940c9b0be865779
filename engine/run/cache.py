"""Deserialized workflows kept in memory between transitions of the same instance."""

from __future__ import annotations

import threading
from collections import OrderedDict

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow


class WorkflowCache:
    """Deserialized workflows by instance id, each valid for exactly one revision of its row.

    ``take`` removes the entry, so a workflow object is only ever used by one transition at a
    time; a transition that commits puts its workflow back under the new revision, and one that
    fails (error, conflict, anything) never does, so the entry is simply gone.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()

    def take(self, instance_id: int, revision: int) -> BpmnWorkflow | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item is None or item[0] != revision:
            return None
        return item[1]

    def put(self, instance_id: int, revision: int, wf: BpmnWorkflow) -> None:
        with self._lock:
            current = self._items.get(instance_id)
            if current is not None and current[0] > revision:
                return
            self._items[instance_id] = (revision, wf)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
