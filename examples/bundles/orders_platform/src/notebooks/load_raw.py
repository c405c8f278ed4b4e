# Databricks notebook source
# MAGIC %md
# MAGIC # Load raw orders
# MAGIC Reads the day's order files from the landing volume into the raw table.

# COMMAND ----------

dbutils.widgets.text("catalog", "orders_dev")
dbutils.widgets.text("batch_size", "5000")
catalog = dbutils.widgets.get("catalog")

# COMMAND ----------

from orders_lib import landing

landing.load(spark, catalog=catalog, batch_size=int(dbutils.widgets.get("batch_size")))
