SELECT customer_id, sum(total) AS spent
FROM orders.raw.orders
WHERE order_date >= current_date() - INTERVAL 30 DAYS
GROUP BY customer_id
ORDER BY spent DESC
LIMIT 100;
