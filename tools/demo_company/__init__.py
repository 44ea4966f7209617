"""The deterministic demo company behind `hrops seed`: a CEO-to-team organisation with English and
Chinese names, three years of hires, leavers, transfers, promotions and pay reviews, and learning
activity with seasonality."""

from tools.demo_company.loader import SeedOptions, SeedReport, StoreNotEmpty, seed_store, seeded_options

__all__ = ["SeedOptions", "SeedReport", "StoreNotEmpty", "seed_store", "seeded_options"]
