"""Check the day's orders: no duplicates, no negative totals."""

import argparse
import sys

from pyspark.sql import SparkSession


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", required=True)
    args = parser.parse_args()
    spark = SparkSession.builder.getOrCreate()
    bad = spark.sql(
        f"SELECT count(*) AS n FROM {args.catalog}.raw.orders WHERE total < 0 OR order_id IS NULL"
    ).first().n
    print(f"{bad} invalid orders")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
