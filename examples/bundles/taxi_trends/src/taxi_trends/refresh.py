"""Refresh the daily taxi trend table from the sample trips."""

import argparse

from pyspark.sql import SparkSession, functions as F


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--schema", required=True)
    args = parser.parse_args()

    spark = SparkSession.builder.getOrCreate()
    trips = spark.read.table("samples.nyctaxi.trips")
    daily = trips.groupBy(F.to_date("tpep_pickup_datetime").alias("day")).agg(
        F.count("*").alias("trips"), F.round(F.avg("fare_amount"), 2).alias("avg_fare")
    )
    daily.write.mode("overwrite").saveAsTable(f"{args.catalog}.{args.schema}.daily_trends")


if __name__ == "__main__":
    main()
