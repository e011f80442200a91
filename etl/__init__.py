"""ETL for the dataset of reported drug seizures and street prices linked to North Korea."""
