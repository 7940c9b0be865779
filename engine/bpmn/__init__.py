"""BPMN in and out: safe XML loading, the parser, the state serializer and every read of stored state.

May import: SpiffWorkflow, lxml, orjson. Nothing else of Tramita's.
"""
