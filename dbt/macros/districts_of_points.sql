{#- CTEs that give every point of `points_cte` (columns `id_column`, easting_m,
    northing_m, point_geom) the district whose official boundary contains it, ending in
    a CTE named `in_district` (id_column, district_id). Points in a grid cell wholly
    inside one district take it by equality on the cell; only points in cells a boundary
    crosses are tested against the polygons (one spatial join), which at national volume
    turns minutes of point-in-polygon work into seconds. A point on a shared edge takes
    the lower district id; points in slivers between boundaries get none.
    Needs a `districts` CTE (district_id, boundary_geom) before it. -#}
{% macro districts_of_points(points_cte, id_column) -%}
{%- set size = var('grid_cell_m') -%}
cells as (
    select distinct
        floor(easting_m / {{ size }})::integer as col_index,
        floor(northing_m / {{ size }})::integer as row_index
    from {{ points_cte }}
),

interior_cells as (
    select cells.col_index, cells.row_index, districts.district_id
    from cells
    inner join districts
        on st_contains(districts.boundary_geom, st_makeenvelope(
            cells.col_index * {{ size }}, cells.row_index * {{ size }},
            (cells.col_index + 1) * {{ size }}, (cells.row_index + 1) * {{ size }}))
),

celled as (
    select
        {{ points_cte }}.{{ id_column }},
        {{ points_cte }}.point_geom,
        interior_cells.district_id
    from {{ points_cte }}
    left join interior_cells
        on interior_cells.col_index = floor({{ points_cte }}.easting_m / {{ size }})::integer
        and interior_cells.row_index = floor({{ points_cte }}.northing_m / {{ size }})::integer
),

on_boundary as (
    select
        celled.{{ id_column }},
        min(districts.district_id) as district_id
    from celled
    inner join districts
        on st_contains(districts.boundary_geom, celled.point_geom)
    where celled.district_id is null
    group by celled.{{ id_column }}
),

in_district as (
    select {{ id_column }}, district_id from celled where district_id is not null
    union all
    select {{ id_column }}, district_id from on_boundary
)
{%- endmacro %}
