# Databricks notebook source
dbutils.widgets.text("region", "emea")
region = dbutils.widgets.get("region")

# COMMAND ----------

spark.sql(f"CALL orders.backfill('{region}')")
