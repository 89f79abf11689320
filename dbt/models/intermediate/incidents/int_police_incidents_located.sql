{#- Police incidents as points in EPSG:2180, with WGS84 coordinates (converted once at
    ingestion with pyproj, kept to 1e-7°) and the district whose official boundary
    contains them (the lowest id on a shared edge; null in the slivers between
    boundaries; macros/districts_of_points.sql). No reprojection here: at national volume
    projecting 34 million points again cost minutes. -#}
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

{{ districts_of_points('points', 'incident_id') }},

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
