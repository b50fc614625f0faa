"""The web layer: blueprints that parse requests, call `workflow.operations` and render."""
