"""Protecting small numbers below national level: suppression and the Kolada key figures."""
