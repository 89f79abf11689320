{#- Police incidents as points in EPSG:2180, with WGS84 coordinates (converted once at
    ingestion with pyproj, kept to 1e-7°) and the district whose official boundary
    contains them (the lowest id on a shared edge; null in the slivers between
    boundaries). Points in a 250 m cell wholly inside a district take it by equality;
    only those in cells a boundary crosses meet the polygons (one spatial join). No
    reprojection here: at national volume projecting 34 million points again, or testing
    each against the polygons, cost minutes. -#}
with incidents as (
    select * from {{ ref('stg_police__incidents') }}
),

districts as (
    select * from {{ ref('stg_reference__district_boundaries') }}
),

points as (
    select
        *,
        st_point(easting_m, northing_m) as point_geom
    from incidents
),

-- most points lie in a grid cell wholly inside one district: they get it by equality on
-- the cell; only points in cells a boundary crosses are tested against the polygons
cells as (
    select distinct
        floor(easting_m / {{ var('grid_cell_m') }})::integer as col_index,
        floor(northing_m / {{ var('grid_cell_m') }})::integer as row_index
    from points
),

interior_cells as (
    select cells.col_index, cells.row_index, districts.district_id
    from cells
    inner join districts
        on st_contains(districts.boundary_geom, st_makeenvelope(
            cells.col_index * {{ var('grid_cell_m') }}, cells.row_index * {{ var('grid_cell_m') }},
            (cells.col_index + 1) * {{ var('grid_cell_m') }}, (cells.row_index + 1) * {{ var('grid_cell_m') }}))
),

celled as (
    select
        points.incident_id,
        points.point_geom,
        interior_cells.district_id
    from points
    left join interior_cells
        on interior_cells.col_index = floor(points.easting_m / {{ var('grid_cell_m') }})::integer
        and interior_cells.row_index = floor(points.northing_m / {{ var('grid_cell_m') }})::integer
),

on_boundary as (
    select
        celled.incident_id,
        min(districts.district_id) as district_id
    from celled
    inner join districts
        on st_contains(districts.boundary_geom, celled.point_geom)
    where celled.district_id is null
    group by celled.incident_id
),

in_district as (
    select incident_id, district_id from celled where district_id is not null
    union all
    select incident_id, district_id from on_boundary
),

final as (
    select
        points.incident_id,
        points.occurred_at,
        points.occurred_local,
        points.occurred_date,
        points.is_time_ambiguous,
        points.is_time_nonexistent,
        points.legal_qualification,
        points.legal_code,
        points.article,
        points.paragraph,
        points.street,
        points.easting_m,
        points.northing_m,
        points.latitude,
        points.longitude,
        in_district.district_id,
        points.point_geom,
        points.delivery_id
    from points
    left join in_district on points.incident_id = in_district.incident_id
)

select * from final
