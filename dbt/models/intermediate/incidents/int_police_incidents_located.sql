{#- Police incidents as points in EPSG:2180, with WGS84 coordinates and the district
    whose official boundary contains them (the nearest district for the few points in
    the slivers between boundaries). -#}
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

in_district as (
    select
        points.incident_id,
        districts.district_id
    from points
    inner join districts
        on st_contains(districts.boundary_geom, points.point_geom)
    qualify row_number() over (partition by points.incident_id order by districts.district_id) = 1
),

wgs84 as (
    select
        incident_id,
        st_transform(point_geom, '{{ var("metric_crs") }}', 'EPSG:4326', always_xy := true) as wgs_geom
    from points
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
        st_y(wgs84.wgs_geom) as latitude,
        st_x(wgs84.wgs_geom) as longitude,
        in_district.district_id,
        points.point_geom,
        points.delivery_id
    from points
    left join in_district on points.incident_id = in_district.incident_id
    left join wgs84 on points.incident_id = wgs84.incident_id
)

select * from final
