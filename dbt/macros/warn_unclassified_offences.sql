{#- After mart_offence_classification_quality is built: one dbt warning per source and
    month whose unclassified share is above `unclassified_warn_share`, naming the codes,
    so the build log (and `ksp build`) says which source to fix, not just a count. -#}
{% macro warn_unclassified_offences(relation) %}
    {% if execute %}
        {% set rows = run_query(
            "select source_system, strftime(month_start, '%Y-%m'), unclassified, records, unknown_codes"
            ~ " from " ~ relation ~ " where is_above_warn_share order by 1, 2"
        ) %}
        {% for row in rows %}
            {% do exceptions.warn(
                "data quality warning: unclassified offences: " ~ row[0] ~ " " ~ row[1] ~ ": " ~ row[2] ~ " of " ~ row[3]
                ~ " records (" ~ "%.1f" | format(100.0 * row[2] / row[3]) ~ " %, above "
                ~ "%.0f" | format(100 * var('unclassified_warn_share')) ~ " %) unclassified; codes the"
                ~ " taxonomy does not list: " ~ row[4]
            ) %}
        {% endfor %}
    {% endif %}
    select 1
{% endmacro %}
