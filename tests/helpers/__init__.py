"""What test modules share: paths, processes to start and wait for, clients, browsers.

Fixtures stay in the conftest.py files; the plain functions and classes they and the tests
import live here, one module per subject."""
