{#- Every (camera position, offence) pair within 1,000 m, with the distance: one spatial
    join (DuckDB's SPATIAL_JOIN on ST_DWithin), after which coverage (≤ 150 m), the
    displacement ring (150–400 m) and the control ring (500–1,000 m) are plain filters
    on the distance: a ring written as two ST_DWithin in a join condition would be a
    nested loop over all pairs. `is_in_any_coverage` marks offences within 150 m of any
    camera position (of any time): the control rings leave them out, so no camera's own
    effect leaks into another's control. `is_in_shared_coverage` marks offences within
    150 m of two or more positions: where coverages overlap, a change may be another
    camera's doing (its installation, its fading), so a camera is judged on the part of
    its coverage it does not share. -#}
with positions as (
    select
        camera_point_version_id,
        camera_point_id,
        valid_from,
        valid_to,
        st_point(easting_m, northing_m) as point_geom
    from {{ ref('dim_camera_point') }}
),

offences as (
    select
        offence_id,
        offence_class,
        occurred_date,
        st_point(easting_m, northing_m) as point_geom
    from {{ ref('fct_incident') }}
    where easting_m is not null
),

paired as (
    select
        positions.camera_point_version_id,
        positions.camera_point_id,
        offences.offence_id,
        offences.offence_class,
        offences.occurred_date,
        st_distance(positions.point_geom, offences.point_geom) as distance_m
    from positions
    inner join offences
        on st_dwithin(positions.point_geom, offences.point_geom, {{ var('control_ring_outer_m') }})
),

-- offences within 150 m of any camera position, ever: never control for another camera
covered as (
    select
        offence_id,
        count(*) as covering_positions
    from paired
    where distance_m <= {{ var('camera_radius_m') }}
    group by offence_id
),

final as (
    select
        paired.*,
        covered.offence_id is not null as is_in_any_coverage,
        coalesce(covered.covering_positions, 0) > 1 as is_in_shared_coverage
    from paired
    left join covered on paired.offence_id = covered.offence_id
)

select * from final
