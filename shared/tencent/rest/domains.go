package rest

import "fmt"

// Where Tencent's REST APIs live (spec §1, §3, §4). The region names are
// CALLFN_TENCENT_REGION's (config.Regions).

// endpoints are where a region's apps are served: the IM REST domain (which
// also serves the v4 call engine) and its backup domain (the same name under
// .my-imcloud.com; China's backup is adminapi.my-imcloud.com), and the Cloud
// API region and domain StartStreamIngest runs in. That API supports only
// some regions (China site: ap-beijing, ap-chongqing, ap-guangzhou,
// ap-shanghai, ap-singapore; international: ap-bangkok, ap-guangzhou,
// ap-jakarta, ap-mumbai, ap-singapore, ap-tokyo); regions without their own
// go to the nearest supported one.
type endpoints struct{ im, imBackup, trtcRegion, trtcDomain string }

var regions = map[string]endpoints{
	"china":         {"console.tim.qq.com", "adminapi.my-imcloud.com", "ap-guangzhou", TRTCDomain},
	"singapore":     {"adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com", "ap-singapore", TRTCIntlDomain},
	"seoul":         {"adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com", "ap-tokyo", TRTCIntlDomain},
	"tokyo":         {"adminapijpn.im.qcloud.com", "adminapijpn.my-imcloud.com", "ap-tokyo", TRTCIntlDomain},
	"frankfurt":     {"adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com", "ap-singapore", TRTCIntlDomain},
	"mumbai":        {"adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com", "ap-mumbai", TRTCIntlDomain},
	"siliconvalley": {"adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com", "ap-singapore", TRTCIntlDomain},
	"jakarta":       {"adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com", "ap-jakarta", TRTCIntlDomain},
}

func regionEndpoints(region string) (endpoints, error) {
	e, ok := regions[region]
	if !ok {
		return e, fmt.Errorf("tencent: unknown region %q", region)
	}
	return e, nil
}

// IMDomain is the region's IM REST domain and its backup domain.
func IMDomain(region string) (primary, backup string, err error) {
	e, err := regionEndpoints(region)
	return e.im, e.imBackup, err
}

// CallKitDomain is the v1 (CallKit backend) domain: one for China, one for
// every other region.
func CallKitDomain(region string) string {
	if region == "china" {
		return "callkit.trtc.tencent-cloud.com"
	}
	return "callkit-intl.trtc.tencent-cloud.com"
}

// TRTC Cloud API 3.0 (StartStreamIngest) endpoints.
const (
	TRTCDomain     = "trtc.tencentcloudapi.com"
	TRTCIntlDomain = "trtc.intl.tencentcloudapi.com"
)

// TRTCRegion is the Cloud API region and domain for StartStreamIngest calls
// of an app in region.
func TRTCRegion(region string) (cloudRegion, domain string, err error) {
	e, err := regionEndpoints(region)
	return e.trtcRegion, e.trtcDomain, err
}
