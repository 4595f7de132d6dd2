"""What the tests share that is not a fixture: paths, builders of test inputs and
checks. Imported as a package (``from support.paths import ROOT``; pyproject's
``pythonpath = ["tests"]``); no test module imports another test module."""
