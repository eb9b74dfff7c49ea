package rest

import (
	"fmt"
	"strings"
)

// Where Tencent's REST APIs live (spec §1, §3, §4). The region names are
// CALLFN_TENCENT_REGION's (config.Regions).

// imDomains are the IM REST domains, which also serve the v4 call engine.
var imDomains = map[string]string{
	"china":         "console.tim.qq.com",
	"singapore":     "adminapisgp.im.qcloud.com",
	"seoul":         "adminapikr.im.qcloud.com",
	"tokyo":         "adminapijpn.im.qcloud.com",
	"frankfurt":     "adminapiger.im.qcloud.com",
	"mumbai":        "adminapiind.im.qcloud.com",
	"siliconvalley": "adminapiusa.im.qcloud.com",
	"jakarta":       "adminapiidn.im.qcloud.com",
}

// IMDomain is the region's IM REST domain and its backup domain (the same
// name under .my-imcloud.com; China's backup is adminapi.my-imcloud.com).
func IMDomain(region string) (primary, backup string, err error) {
	primary, ok := imDomains[region]
	if !ok {
		return "", "", fmt.Errorf("tencent: unknown region %q", region)
	}
	if region == "china" {
		return primary, "adminapi.my-imcloud.com", nil
	}
	return primary, strings.TrimSuffix(primary, ".im.qcloud.com") + ".my-imcloud.com", nil
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

// trtcRegions maps a callfn region to the Cloud API region StartStreamIngest
// runs in. The API supports only some regions (China site: ap-beijing,
// ap-chongqing, ap-guangzhou, ap-shanghai, ap-singapore; international:
// ap-bangkok, ap-guangzhou, ap-jakarta, ap-mumbai, ap-singapore, ap-tokyo);
// regions without their own go to the nearest supported one.
var trtcRegions = map[string]string{
	"china":         "ap-guangzhou",
	"singapore":     "ap-singapore",
	"seoul":         "ap-tokyo",
	"tokyo":         "ap-tokyo",
	"frankfurt":     "ap-singapore",
	"mumbai":        "ap-mumbai",
	"siliconvalley": "ap-singapore",
	"jakarta":       "ap-jakarta",
}

// TRTCRegion is the Cloud API region and domain for StartStreamIngest calls
// of an app in region.
func TRTCRegion(region string) (cloudRegion, domain string, err error) {
	r, ok := trtcRegions[region]
	if !ok {
		return "", "", fmt.Errorf("tencent: unknown region %q", region)
	}
	if region == "china" {
		return r, TRTCDomain, nil
	}
	return r, TRTCIntlDomain, nil
}
