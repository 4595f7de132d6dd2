"""The simulated demo exports and their calibration against the published 2021–2023 report."""
