"""collab: the governance workflow engine for police-to-police collaborations."""

__version__ = "0.1.0"
