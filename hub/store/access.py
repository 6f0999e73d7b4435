"""Users, API tokens, web sessions and the audit log (the workbench's access control)."""
