{#- The 250 m analysis grid over Kraków in EPSG:2180: square cells aligned to multiples of
    the cell size, kept where they touch a district. A point's cell is plain arithmetic
    (floor(easting / 250), floor(northing / 250)), so facts join the grid by equality and
    neighbours are cells whose column and row differ by at most one. -#}
{%- set size = var('grid_cell_m') %}
with districts as (
    select * from {{ ref('stg_reference__district_boundaries') }}
),

extent as (
    select
        floor(min(st_xmin(boundary_geom)) / {{ size }})::integer as col_min,
        floor(max(st_xmax(boundary_geom)) / {{ size }})::integer as col_max,
        floor(min(st_ymin(boundary_geom)) / {{ size }})::integer as row_min,
        floor(max(st_ymax(boundary_geom)) / {{ size }})::integer as row_max
    from districts
),

candidates as (
    select
        cols.col_index,
        rows_.row_index,
        st_makeenvelope(
            cols.col_index * {{ size }}, rows_.row_index * {{ size }},
            (cols.col_index + 1) * {{ size }}, (rows_.row_index + 1) * {{ size }}
        ) as cell_geom
    from extent,
        generate_series(extent.col_min, extent.col_max) as cols (col_index),
        generate_series(extent.row_min, extent.row_max) as rows_ (row_index)
),

in_city as (
    select
        candidates.col_index,
        candidates.row_index,
        candidates.cell_geom,
        districts.district_id,
        st_area(st_intersection(candidates.cell_geom, districts.boundary_geom)) as area_in_district_m2
    from candidates
    inner join districts on st_intersects(candidates.cell_geom, districts.boundary_geom)
),

assigned as (
    select
        col_index,
        row_index,
        cell_geom,
        -- the district holding most of the cell
        arg_max(district_id, area_in_district_m2) as district_id,
        sum(area_in_district_m2) as area_in_city_m2
    from in_city
    group by col_index, row_index, cell_geom
),

final as (
    select
        'E' || col_index || 'N' || row_index as cell_id,
        col_index::integer as col_index,
        row_index::integer as row_index,
        district_id,
        ((col_index + 0.5) * {{ size }})::double as centroid_easting_m,
        ((row_index + 0.5) * {{ size }})::double as centroid_northing_m,
        area_in_city_m2,
        st_astext(cell_geom) as cell_wkt_epsg2180
    from assigned
)

select * from final
