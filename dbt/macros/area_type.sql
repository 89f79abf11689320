{#- The kind of place of a point, the grouping under which deterrence is judged and
    planned: `transit` within 250 m of a transfer node or loop; otherwise `commercial`
    within 300 m of a commercial street or 1,500 m of the Main Square (Rynek Główny,
    EPSG:2180 566960 244220); otherwise `residential`. The counts come from one spatial
    join within 500 m to dim_poi, counted with FILTER (see the callers). -#}
{% macro area_type(transit_nodes_250m, commercial_streets_300m, point_geom) -%}
    case
        when coalesce({{ transit_nodes_250m }}, 0) > 0 then 'transit'
        when coalesce({{ commercial_streets_300m }}, 0) > 0
            or st_distance({{ point_geom }}, st_point(566960, 244220)) <= 1500 then 'commercial'
        else 'residential'
    end
{%- endmacro %}
