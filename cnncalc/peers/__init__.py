"""Run other counting tools on the module cnncalc's torch bridge builds, and read their headline numbers.

This is the live side of `cnncalc.conventions`: the conventions compute each tool's number from the spec
alone; these runners ask the tools themselves, so tests and benchmarks can check that the two agree.
Each tool is an optional dependency (the `bench` extra); importing this package needs torch only.
"""

from cnncalc.peers.tools import PEER_TOOLS, PeerTool, installed_version, run_peer

__all__ = ["PEER_TOOLS", "PeerTool", "installed_version", "run_peer"]
