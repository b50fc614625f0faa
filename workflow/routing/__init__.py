"""Routing of circulars down the chain: receive, endorse, forward, confirm, approve and roll up."""
