-- Every incident within the camera radius is counted in exactly one camera-month-period
-- row: the mart loses nothing when it splits months at installation and removal.
with pairs as (
    select count(*) as n
    from {{ ref('int_camera_points_current') }} as cameras
    inner join {{ ref('int_police_incidents_located') }} as incidents
        on st_dwithin(cameras.point_geom, incidents.point_geom, {{ var('camera_radius_m') }})
),

mart as (
    select coalesce(sum(incident_count), 0) as n
    from {{ ref('mart_camera_incidents_monthly') }}
)

select
    pairs.n as pairs,
    mart.n as counted
from pairs cross join mart
where pairs.n <> mart.n
