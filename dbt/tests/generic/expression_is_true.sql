{% test expression_is_true(model, expression, column_name=none) %}
{#- Every row satisfies the SQL expression. -#}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
