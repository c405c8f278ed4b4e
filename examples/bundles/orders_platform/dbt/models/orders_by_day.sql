select order_date, count(*) as orders from {{ source('raw', 'orders') }} group by order_date
