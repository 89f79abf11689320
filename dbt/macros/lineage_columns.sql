{#- The lineage every landed row carries (ingestion/core.py LINEAGE_COLUMNS), renamed for
    staging: which delivery, which file and line, and when it was ingested. -#}
{% macro lineage_columns() -%}
        _delivery_id as delivery_id,
        _source_file as source_file,
        _line as source_line,
        _ingested_at as ingested_at
{%- endmacro %}
