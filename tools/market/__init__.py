"""Compensation market data: sources behind one interface, job matching, normalisation, blending."""
