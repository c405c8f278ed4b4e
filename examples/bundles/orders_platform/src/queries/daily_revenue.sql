-- Revenue per day and channel, for the dashboard.
CREATE OR REPLACE TABLE IDENTIFIER(:catalog || '.marts.daily_revenue') AS
SELECT order_date, channel, sum(total) AS revenue, count(*) AS orders
FROM IDENTIFIER(:catalog || '.raw.orders')
GROUP BY order_date, channel;
