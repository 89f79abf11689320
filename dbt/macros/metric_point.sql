{#- A WGS84 longitude/latitude pair as a point in the metric CRS (EPSG:2180, x = easting). -#}
{% macro metric_point_from_wgs84(longitude, latitude) -%}
    st_transform(st_point({{ longitude }}, {{ latitude }}), 'EPSG:4326', '{{ var("metric_crs") }}', always_xy := true)
{%- endmacro %}
