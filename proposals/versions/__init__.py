"""Citable versions of a proposal: every version it had, rebuilt from the
recorded history exactly as the API served it, and citations of them."""
